/**
 * The one image-reference parser every construct uses (Docker's reference grammar), so an image
 * accepted by one construct is accepted by all. Pure.
 */

/** Parts of an image reference. */
export interface ImageReference {
    /** Registry host and optional port (`registry.lab:5000`); undefined for Docker Hub. */
    readonly registry?: string;
    /** Repository path (`shop/web`, `postgres`). */
    readonly path: string;
    /** Tag, if given. */
    readonly tag?: string;
    /** Digest (`sha256:…`), if given. */
    readonly digest?: string;
}

/** What an image reference looks like, for error messages. */
export const IMAGE_EXPECTED = "a Docker image reference [registry[:port]/]path[:tag][@digest]";

// The Docker reference grammar (github.com/distribution/reference, regexp.go and normalize.go):
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] remote-name
//   domain           := host [':' port-number]
//   host             := domain-name | '[' IPv6 ']'
//   domain-name      := domain-component ['.' domain-component]*
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   remote-name      := path-component ['/' path-component]*
//   path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*,  separator := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
// The first component is the domain only if it is followed by '/' and contains '.' or ':', is
// `localhost`, or has an upper-case letter; the name (domain and path) is at most 255 characters.
// Digests: only the algorithms go-digest registers (sha256, sha384, sha512), lower-case hex.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;
const NAME_MAX = 255;

/**
 * Parses a Docker image reference `[registry[:port]/]path[:tag][@digest]` per the Docker reference
 * grammar. Returns its parts, or why the text is not an image reference.
 */
export function parseImageReference(text: unknown): ImageReference | string {
    if (typeof text !== "string") {
        return "not a string";
    }
    if (text === "") {
        return "empty";
    }
    let rest = text;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST.test(digest)) {
            return `digest "${digest}" is not sha256:<64 lower-case hex digits> (or sha384, sha512)`;
        }
    }
    let tag: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon > rest.lastIndexOf("/")) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag)) {
            return (
                `tag "${tag}" is not 1 to 128 letters, digits, '_', '.' and '-' ` +
                "starting with a letter, digit or '_'"
            );
        }
    }
    if (rest.length > NAME_MAX) {
        return `name longer than ${NAME_MAX} characters`;
    }
    if (/^[a-f0-9]{64}$/.test(rest) && tag === undefined && digest === undefined) {
        return "a 64-hex-digit image ID, not a name";
    }
    let registry: string | undefined;
    const slash = rest.indexOf("/");
    if (slash >= 0) {
        const first = rest.slice(0, slash);
        if (first === "localhost" || /[.:]/.test(first) || first.toLowerCase() !== first) {
            if (!DOMAIN.test(first)) {
                return `registry "${first}" is not a host name or [IPv6 address] with an optional :port`;
            }
            registry = first;
            rest = rest.slice(slash + 1);
        }
    }
    for (const component of rest.split("/")) {
        if (!PATH_COMPONENT.test(component)) {
            return component.toLowerCase() !== component && PATH_COMPONENT.test(component.toLowerCase())
                ? `path component "${component}" is not lower-case`
                : `path component "${component}" is not lower-case letters and digits separated by '.', '_', '__' or '-'`;
        }
    }
    return {
        ...(registry !== undefined ? { registry } : {}),
        path: rest,
        ...(tag !== undefined ? { tag } : {}),
        ...(digest !== undefined ? { digest } : {}),
    };
}


/** A registry address as image references name it: `host[:port]`, or why the text is not one. */
export function parseRegistryAddress(text: unknown): { host: string; port?: number } | string {
    if (typeof text !== "string") return "not a string";
    if (text === "") return "empty";
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return "a URL: give host[:port] without a scheme";
    if (text.includes("/")) return "has a path: give host[:port] only";
    if (!DOMAIN.test(text)) return "not a host name, IPv4 address or [IPv6 address] with an optional :port";
    const m = /:(\d+)$/.exec(text);
    if (m) {
        const port = Number(m[1]);
        if (port < 1 || port > 65535) return `port ${m[1]} is not from 1 to 65535`;
        return { host: text.slice(0, m.index), port };
    }
    return { host: text };
}

/** What a registry address looks like, for error messages. */
export const REGISTRY_EXPECTED = 'a registry address host[:port] as image references start with, e.g. "10.213.0.5:5000" or "registry.example.com"';
