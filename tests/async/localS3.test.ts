/**
 * The local S3 stand-in (moto, started by testing/local/servers.ts) must keep what the job
 * store relies on: a conditional write is atomic, as on S3. moto checks If-None-Match /
 * If-Match and then writes, with no lock between, on a threaded server, so two concurrent
 * writers can both pass the check: seen once in CI under load as two 202s for one
 * Idempotency-Key, and reproduced with this file against stock `moto_server` 5.2.5 run with
 * a 1 µs thread switch interval (2 winners for one key in both tests). The stand-in is
 * started here with that same interval, which widens any check-then-act window.
 * Many concurrent racers on a few keys, bounded; loopback only.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsClients } from "../../services/shared/aws";
import { motoPython, startMotoServer, type LocalServer } from "../../testing/local/servers";

const KEYS = 25;
const RACERS = 12;

let moto: LocalServer;
beforeAll(async () => {
    moto = await startMotoServer({ switchIntervalSeconds: 1e-6 });
});
afterAll(async () => {
    await moto?.stop();
});

/** "ok" for a write S3 took, else the error code it answered with. */
async function outcome(write: Promise<unknown>): Promise<string> {
    try {
        await write;
        return "ok";
    } catch (e) {
        if (e instanceof S3ServiceException) return e.name;
        throw e;
    }
}

/** RACERS writes to one key at once: which racers S3 took, and the other answers it gave. */
async function race(write: (racer: number) => Promise<unknown>): Promise<{ winners: number[]; others: string[] }> {
    const results = await Promise.all(Array.from({ length: RACERS }, (_, racer) => outcome(write(racer))));
    return { winners: results.flatMap((r, racer) => (r === "ok" ? [racer] : [])), others: [...new Set(results.filter((r) => r !== "ok"))] };
}

describe("moto as the local S3", () => {
    it("of concurrent If-None-Match: * writes to one key, exactly one wins and it is what the key holds", async () => {
        const { s3 } = awsClients({ region: "us-east-1", s3Endpoint: moto.endpoint });
        const Bucket = "atomic-puts";
        await s3.send(new CreateBucketCommand({ Bucket }));
        for (let k = 0; k < KEYS; k++) {
            const Key = `jobs/${k}`;
            const { winners, others } = await race((racer) => s3.send(new PutObjectCommand({ Bucket, Key, Body: `racer-${racer}`, IfNoneMatch: "*" })));
            expect({ key: Key, winners: winners.length, others }).toEqual({ key: Key, winners: 1, others: ["PreconditionFailed"] });
            const held = await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
            expect(held).toBe(`racer-${winners[0]}`);
        }
    }, 60_000);

    it("of concurrent If-Match writes against one ETag, exactly one wins", async () => {
        const { s3 } = awsClients({ region: "us-east-1", s3Endpoint: moto.endpoint });
        const Bucket = "atomic-updates";
        await s3.send(new CreateBucketCommand({ Bucket }));
        for (let k = 0; k < KEYS; k++) {
            const Key = `jobs/${k}`;
            const { ETag } = await s3.send(new PutObjectCommand({ Bucket, Key, Body: "initial" }));
            const { winners, others } = await race((racer) => s3.send(new PutObjectCommand({ Bucket, Key, Body: `racer-${racer}`, IfMatch: ETag })));
            expect({ key: Key, winners: winners.length, others }).toEqual({ key: Key, winners: 1, others: ["PreconditionFailed"] });
        }
    }, 60_000);
});

describe("which Python runs moto", () => {
    const made: string[] = [];
    const tempDir = (prefix: string) => {
        made.push(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
        return made.at(-1)!;
    };
    afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    /** A bin folder holding a moto_server script with this first line, and python3 beside it or not. */
    function bin(firstLine: string, withPython: boolean): string {
        const dir = tempDir("moto-bin-");
        fs.writeFileSync(path.join(dir, "moto_server"), `${firstLine}\nimport moto\n`);
        if (withPython) fs.writeFileSync(path.join(dir, "python3"), "");
        return path.join(dir, "moto_server");
    }
    const fix = "reinstall moto into the project venv with `npm run tools:install`";

    it("the venv's python3 beside moto_server, whatever its first line says", () => {
        const server = bin("#!/bin/sh", true);
        expect(motoPython(server)).toBe(path.join(path.dirname(server), "python3"));
    });

    it("else the interpreter on its #! line, when that is a Python that exists", () => {
        const python = path.join(tempDir("venv-"), "python3.11");
        fs.writeFileSync(python, "");
        expect(motoPython(bin(`#!${python}`, false))).toBe(python);
    });

    it("a shell or env wrapper, or a Python that is gone, is refused with the fix", () => {
        for (const first of ["#!/bin/sh", "#!/usr/bin/env python3", "import moto"]) {
            const server = bin(first, false);
            expect(() => motoPython(server)).toThrow(`${server}: no python3 beside it and its first line ${JSON.stringify(first)} names no Python interpreter; ${fix}`);
        }
        const gone = bin("#!/nonexistent/venv/bin/python3.11", false);
        expect(() => motoPython(gone)).toThrow(`${gone}: its interpreter /nonexistent/venv/bin/python3.11 does not exist; ${fix}`);
    });
});
