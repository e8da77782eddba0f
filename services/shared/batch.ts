/**
 * Coalesces single SQS calls into batch calls (up to 10 entries, the SQS limit):
 * one request for many messages cuts the queue operations per job. An entry
 * waits at most `lingerMs` for company.
 */
export type BatchFlush<T> = (items: T[]) => Promise<Array<Error | undefined>>;

interface Pending<T> {
    item: T;
    resolve: () => void;
    reject: (err: Error) => void;
}

export class Batcher<T> {
    private pending: Array<Pending<T>> = [];
    private timer?: NodeJS.Timeout;

    constructor(
        private readonly flush: BatchFlush<T>,
        private readonly max = 10,
        private readonly lingerMs = 2,
    ) {}

    add(item: T): Promise<void> {
        return new Promise<void>((resolve, reject) => {
            this.pending.push({ item, resolve, reject });
            if (this.pending.length >= this.max) this.send();
            else this.timer ??= setTimeout(() => this.send(), this.lingerMs);
        });
    }

    private send(): void {
        clearTimeout(this.timer);
        this.timer = undefined;
        while (this.pending.length > 0) {
            const batch = this.pending.splice(0, this.max);
            this.flush(batch.map((p) => p.item)).then(
                (errors) => batch.forEach((p, i) => (errors[i] ? p.reject(errors[i]) : p.resolve())),
                (err: Error) => batch.forEach((p) => p.reject(err)),
            );
        }
    }
}

/** Split into chunks of `size` (SQS batch calls take at most 10 entries). */
export function chunks<T>(items: T[], size = 10): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}
