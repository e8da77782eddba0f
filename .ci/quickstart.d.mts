/** Commands of the README's quick start (see quickstart.mjs). */
export function quickStartCommands(readme: string): string[];
