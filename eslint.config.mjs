import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    // .venv: the Python tools .ci/install-tools.sh installs (torch ships .mjs files).
    // reports/, .stryker-tmp*/: mutation reports and the sandboxes Stryker copies the sources into.
    { ignores: ["node_modules/", "out/", ".venv/", "reports/", ".stryker-tmp*/", "**/*.js", "!eslint.config.mjs"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
            "@typescript-eslint/no-non-null-assertion": "off",
            eqeqeq: ["error", "always"],
            "no-console": "off",
        },
    },
);
