/**
 * cloud-init user data made of several parts, as every host pool hands it to a new machine:
 * the pool's own part (users, keys) plus the parts other layers contribute (a runtime install, ...).
 */

/** Merge rule for cloud-config parts: lists append, dicts merge, so no part clobbers another. */
export const CLOUD_CONFIG_MERGE = "list(append)+dict(no_replace,recurse_list)+str()";

/** The MIME type cloud-init expects for a part, from its first line. */
export function partType(content: string): string {
    const first = content.split("\n", 1)[0].trim();
    if (first === "#cloud-config") return "text/cloud-config";
    if (first.startsWith("#!")) return "text/x-shellscript";
    if (first === "#cloud-boothook") return "text/cloud-boothook";
    throw new Error(
        `a user data part must start with "#cloud-config", "#!" (a script) or "#cloud-boothook"; ` +
            `this one starts with ${JSON.stringify(first.slice(0, 40))}`,
    );
}

/**
 * Joins user data parts into one MIME multipart document (or returns the only part as it is).
 * Parts run/merge in order. The boundary is derived from the content so the output is stable
 * (a second `up` sees the same user data) and never occurs inside a part.
 */
export function multipartUserData(parts: string[]): string {
    if (parts.length === 0) {
        throw new Error("user data needs at least one part");
    }
    if (parts.length === 1) {
        partType(parts[0]);
        return parts[0];
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    let boundary = `flotilla-${crypto.createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 24)}`;
    while (parts.some((p) => p.includes(boundary))) {
        boundary = `${boundary}x`;
    }
    const lines = ["Content-Type: multipart/mixed; boundary=\"" + boundary + "\"", "MIME-Version: 1.0", ""];
    parts.forEach((part, i) => {
        const type = partType(part);
        lines.push(`--${boundary}`);
        lines.push(`Content-Type: ${type}; charset="utf-8"`);
        lines.push("MIME-Version: 1.0");
        lines.push("Content-Transfer-Encoding: 7bit");
        lines.push(`Content-Disposition: attachment; filename="part-${String(i + 1).padStart(2, "0")}"`);
        if (type === "text/cloud-config") {
            lines.push(`Merge-Type: ${CLOUD_CONFIG_MERGE}`);
        }
        lines.push("");
        lines.push(part.endsWith("\n") ? part.slice(0, -1) : part);
    });
    lines.push(`--${boundary}--`, "");
    return lines.join("\n");
}
