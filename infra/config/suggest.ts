/** Edit distance (Levenshtein), case-insensitive. */
export function editDistance(a: string, b: string): number {
    const s = a.toLowerCase();
    const t = b.toLowerCase();
    let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
    for (let i = 1; i <= s.length; i++) {
        const cur = [i];
        for (let j = 1; j <= t.length; j++) {
            const cost = s[i - 1] === t[j - 1] ? 0 : 1;
            cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
        }
        prev = cur;
    }
    return prev[t.length] ?? 0;
}

/** `; did you mean "x"?` for the closest known key within a third of its length, else "". */
export function didYouMean(given: string, known: readonly string[]): string {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = editDistance(given, k);
        if (d < bestDistance) {
            best = k;
            bestDistance = d;
        }
    }
    const limit = Math.max(2, Math.floor(given.length / 3));
    return bestDistance <= limit ? `; did you mean "${best}"?` : "";
}
