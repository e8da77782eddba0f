/** Text SQS accepts: message bodies and attributes must be XML 1.0 characters. Pure. */

/** What SQS refuses that JSON.stringify leaves raw (it already escapes control characters and lone surrogates). */
const SQS_UNSAFE = /[\ufffe\uffff]/g;

/** JSON for an SQS message body: U+FFFE and U+FFFF escaped too (the same JSON value). */
export function sqsSafeJson(value: unknown): string {
    return JSON.stringify(value).replace(SQS_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Free text for a message attribute (a failure reason may quote a model's answer): what SQS refuses becomes U+FFFD. */
export function sqsSafeText(text: string): string {
    // eslint-disable-next-line no-control-regex -- exactly the control characters XML 1.0 excludes
    return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}
