/**
 * A loopback HTTP mirror for reference:fetch tests: serves given bytes at
 * `/<host>/<path>` of each upstream URL (the MLSERVE_REFERENCE_BASE_URL layout),
 * counts requests, answers 404 for anything else. Listens on 127.0.0.1 only,
 * on a free port; close() ends open connections too.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface Mirror {
    baseUrl: string;
    /** Requests per path (`/<host>/<path>`). */
    hits: Map<string, number>;
    /** Replace what a URL serves. */
    set(upstreamUrl: string, body: Buffer): void;
    close(): Promise<void>;
}

export const mirrorPath = (upstreamUrl: string) => {
    const u = new URL(upstreamUrl);
    return `/${u.host}${u.pathname}`;
};

export async function startMirror(files: ReadonlyMap<string, Buffer> = new Map()): Promise<Mirror> {
    const routes = new Map([...files].map(([url, body]) => [mirrorPath(url), body]));
    const hits = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const p = decodeURI((req.url ?? "/").split("?")[0]!);
        hits.set(p, (hits.get(p) ?? 0) + 1);
        const body = routes.get(p);
        if (req.method !== "GET" || !body) {
            res.writeHead(404).end("not found");
            return;
        }
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return {
        baseUrl: `http://127.0.0.1:${port}`,
        hits,
        set: (url, body) => routes.set(mirrorPath(url), body),
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
