/**
 * The config each program a user runs declares in its project file, checked against the program's
 * source (no engine): the root program (program/index.ts with ./Pulumi.yaml, namespace `flotilla`)
 * and every example (examples/<name>/index.ts with its Pulumi.yaml, the project's namespace).
 *
 * The program's reads are found with the TypeScript parser: every `config.get*(...)` and
 * `config.require*(...)` on a `new pulumi.Config(...)` (generic calls such as
 * `getObject<string[]>("zones")` included), the namespace of its Config, and the `?? <fallback>` of
 * a get*. Against the project file:
 *  - every key read is declared in `config:` with a description, the type of its reader (string,
 *    integer for *Number, boolean for *Boolean, none for *Object: a typed list refuses the JSON
 *    string `pulumi config set key '[...]'` stores) and `secret: true` exactly when it is read
 *    with *Secret*;
 *  - a key read with require* has no default (the engine then refuses a stack without it); a key
 *    read with get* has a default equal to the code's fallback when that is a literal or a constant
 *    the library exports, and some default otherwise;
 *  - nothing is declared that the program does not read;
 *  - `template:` (what `pulumi new` prompts for) lists the same keys, each with a description, the
 *    declared default (as the string the prompt offers) and the same `secret`.
 * One exception, named per program in TEMPLATE_ONLY: a key read with get* whose fallback no value
 * states (`?? adminCidr`, `flotilla-<stack>`, or none: download an image, DHCP). The engine gives a
 * declared key's default to every stack, and refuses a stack without a declared key that has none,
 * so such a key is listed only in the template, without a default (an empty answer leaves it unset).
 * Fake program/project pairs show that each kind of mismatch is reported.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

// js-yaml is in node_modules (a dependency of the tooling) without type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

const ROOT = path.resolve(__dirname, "../../..");

/** One `config.get*`/`config.require*` call of a program. */
interface ConfigRead {
    /** `<namespace>:<key>`. */
    key: string;
    method: string;
    line: number;
    /** The `?? <expression>` after a get*, as written. */
    fallbackText?: string;
    /** Its value, when it is a literal or a constant imported from flotilla. */
    fallback?: { value: unknown };
}

/** A declaration of `config:` or `template.config:`. */
interface Declaration {
    type?: unknown;
    description?: unknown;
    default?: unknown;
    secret?: unknown;
    items?: unknown;
}

/** A program and its project file, and the exceptions its table entry allows. */
interface ProgramCase {
    name: string;
    /** Source of the program. */
    source: string;
    /** Text of its Pulumi.yaml. */
    project: string;
    /** Keys (as read: without namespace) listed only in the template; see the header. */
    templateOnly?: string[];
    /** Keys read with get* and no `??`: the library constant their declared default must equal. */
    libraryDefaults?: Record<string, { module: string; name: string }>;
}

const READER = /^(get|require)(Secret)?(Boolean|Number|Object)?$/;

/** A flotilla module as the unit project maps it (jest's moduleNameMapper). */
function flotillaModule(specifier: string): Record<string, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(specifier) as Record<string, unknown>;
}

/** The value of a literal expression (or of a constant imported from flotilla); undefined if it has none. */
function literal(expr: ts.Expression, imports: Map<string, string>): { value: unknown } | undefined {
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) return literal(expr.expression, imports);
    if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return { value: expr.text };
    if (ts.isNumericLiteral(expr)) return { value: Number(expr.text) };
    if (expr.kind === ts.SyntaxKind.TrueKeyword) return { value: true };
    if (expr.kind === ts.SyntaxKind.FalseKeyword) return { value: false };
    if (ts.isPrefixUnaryExpression(expr) && expr.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(expr.operand)) {
        return { value: -Number(expr.operand.text) };
    }
    if (ts.isArrayLiteralExpression(expr)) {
        const items = expr.elements.map((e) => literal(e, imports));
        return items.every((i) => i !== undefined) ? { value: items.map((i) => i!.value) } : undefined;
    }
    if (ts.isObjectLiteralExpression(expr)) {
        const value: Record<string, unknown> = {};
        for (const p of expr.properties) {
            if (!ts.isPropertyAssignment(p) || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return undefined;
            const v = literal(p.initializer, imports);
            if (!v) return undefined;
            value[p.name.text] = v.value;
        }
        return { value };
    }
    if (ts.isIdentifier(expr) && imports.has(expr.text)) {
        const value = flotillaModule(imports.get(expr.text)!)[expr.text];
        return ["string", "number", "boolean"].includes(typeof value) ? { value } : undefined;
    }
    return undefined;
}

/** Every config read of a program's source; `problems` gets what cannot be read statically. */
function configReads(source: string, projectName: string, problems: string[]): ConfigRead[] {
    const sf = ts.createSourceFile("index.ts", source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    // Identifiers imported from flotilla (their module), and the Config objects (their namespace).
    const imports = new Map<string, string>();
    const configs = new Map<string, string>();
    const isConfig = (e: ts.Expression): e is ts.NewExpression =>
        ts.isNewExpression(e) && /(^|\.)Config$/.test(e.expression.getText(sf));
    const namespaceOf = (e: ts.NewExpression): string => {
        const arg = e.arguments?.[0];
        if (arg === undefined) return projectName;
        if (ts.isStringLiteral(arg)) return arg.text;
        problems.push(`line ${line(e)}: a Config whose namespace is not a string literal`);
        return "?";
    };
    const collect = (node: ts.Node) => {
        if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && /^flotilla(\/|$)/.test(node.moduleSpecifier.text)) {
            const bindings = node.importClause?.namedBindings;
            if (bindings && ts.isNamedImports(bindings)) {
                for (const e of bindings.elements) imports.set(e.name.text, node.moduleSpecifier.text);
            }
        }
        if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isConfig(node.initializer)) {
            configs.set(node.name.text, namespaceOf(node.initializer));
        }
        ts.forEachChild(node, collect);
    };
    collect(sf);

    const reads: ConfigRead[] = [];
    const visit = (node: ts.Node) => {
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && READER.test(node.expression.name.text)) {
            const receiver = node.expression.expression;
            const namespace = ts.isIdentifier(receiver) ? configs.get(receiver.text) : isConfig(receiver) ? namespaceOf(receiver) : undefined;
            if (namespace !== undefined) {
                const method = node.expression.name.text;
                const arg = node.arguments[0];
                if (!arg || !ts.isStringLiteral(arg)) {
                    problems.push(`line ${line(node)}: ${method}(...) with a key that is not a string literal`);
                } else {
                    const read: ConfigRead = { key: `${namespace}:${arg.text}`, method, line: line(node) };
                    let outer: ts.Node = node;
                    while (ts.isParenthesizedExpression(outer.parent) || ts.isAsExpression(outer.parent) || ts.isNonNullExpression(outer.parent)) outer = outer.parent;
                    const parent = outer.parent;
                    if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && parent.left === outer) {
                        read.fallbackText = parent.right.getText(sf);
                        read.fallback = literal(parent.right, imports);
                    }
                    reads.push(read);
                }
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(sf);
    return reads;
}

/** `key` of a project file qualified with its namespace (the project's when it has none). */
const qualify = (key: string, projectName: string) => (key.includes(":") ? key : `${projectName}:${key}`);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** What the type of a key read with `method` is declared as (undefined: no type, any value). */
function expectedType(method: string): string | undefined {
    if (method.endsWith("Number")) return "integer";
    if (method.endsWith("Boolean")) return "boolean";
    if (method.endsWith("Object")) return undefined;
    return "string";
}

/** The default as `pulumi new`'s prompt offers it: a string (JSON for anything but a string). */
const promptText = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/** Every mismatch between a program's config reads and its project file, one line each. */
function checkProgram(c: ProgramCase): string[] {
    const problems: string[] = [];
    const project = yaml.load(c.project);
    if (!isRecord(project) || typeof project.name !== "string") return ["the project file has no name"];
    const projectName = project.name;
    const declarations = (section: unknown, where: string): Map<string, Declaration> => {
        const out = new Map<string, Declaration>();
        if (section === undefined || section === null) return out;
        if (!isRecord(section)) {
            problems.push(`${where} is not a map`);
            return out;
        }
        for (const [key, decl] of Object.entries(section)) {
            if (!isRecord(decl)) problems.push(`${where} ${key}: not a map with a description`);
            out.set(qualify(key, projectName), isRecord(decl) ? decl : {});
        }
        return out;
    };
    const config = declarations(project.config, "config:");
    if (!isRecord(project.template)) problems.push("no template: section");
    const template = isRecord(project.template) ? project.template : {};
    if (typeof template.description !== "string" || template.description === "") problems.push("template: has no description");
    const prompts = declarations(template.config, "template.config:");

    const reads = configReads(c.source, projectName, problems);
    const byKey = new Map<string, ConfigRead[]>();
    for (const r of reads) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const templateOnly = new Set((c.templateOnly ?? []).map((k) => qualify(k, projectName)));
    const libraryDefaults = new Map(Object.entries(c.libraryDefaults ?? {}).map(([k, v]) => [qualify(k, projectName), v]));

    for (const [key, all] of byKey) {
        const first = all[0];
        const at = `${key} (line ${first.line}, ${first.method})`;
        for (const other of all.slice(1)) {
            if (other.method !== first.method || other.fallbackText !== first.fallbackText) {
                problems.push(`${key}: read differently on lines ${first.line} and ${other.line}`);
            }
        }
        const required = first.method.startsWith("require");
        const secret = first.method.includes("Secret");
        const type = expectedType(first.method);
        const decl = config.get(key);
        const prompt = prompts.get(key);
        const literalFallback = first.fallback ?? (libraryDefaults.has(key) ? { value: flotillaModule(libraryDefaults.get(key)!.module)[libraryDefaults.get(key)!.name] } : undefined);

        if (templateOnly.has(key)) {
            if (required || literalFallback) {
                problems.push(`${at}: in TEMPLATE_ONLY but ${required ? "required" : `its fallback is ${first.fallbackText ?? "a library constant"}`}: declare it in config:`);
            }
            if (decl) problems.push(`${at}: declared in config: (its default would go to every stack; without one it is required)`);
        } else if (!decl) {
            problems.push(`${at}: read but not declared in config:`);
        } else {
            if (typeof decl.description !== "string" || decl.description === "") problems.push(`${at}: declared without a description`);
            if (decl.type !== type) problems.push(`${at}: declared with type ${String(decl.type)}, expected ${String(type)}`);
            if (Boolean(decl.secret) !== secret) problems.push(`${at}: declared ${decl.secret ? "secret" : "not secret"}, read ${secret ? "as a secret" : "in plain text"}`);
            if (required && decl.default !== undefined) problems.push(`${at}: required but declared with default ${JSON.stringify(decl.default)}`);
            if (!required && decl.default === undefined) problems.push(`${at}: optional (fallback ${first.fallbackText ?? "none"}) but declared without a default`);
            if (!required && decl.default !== undefined && literalFallback && JSON.stringify(decl.default) !== JSON.stringify(literalFallback.value)) {
                problems.push(`${at}: declared default ${JSON.stringify(decl.default)}, the code's fallback is ${JSON.stringify(literalFallback.value)}`);
            }
        }

        if (!prompt) {
            problems.push(`${at}: not in template.config:`);
        } else {
            if (typeof prompt.description !== "string" || prompt.description === "") problems.push(`${at}: in template.config: without a description`);
            if (Boolean(prompt.secret) !== secret) problems.push(`${at}: template.config: ${prompt.secret ? "secret" : "not secret"}, read ${secret ? "as a secret" : "in plain text"}`);
            const want = decl?.default === undefined ? undefined : promptText(decl.default);
            if (prompt.default !== want) {
                problems.push(`${at}: template.config: default ${JSON.stringify(prompt.default)}, expected ${want === undefined ? "none" : JSON.stringify(want)}`);
            }
        }
    }
    for (const key of config.keys()) if (!byKey.has(key)) problems.push(`${key}: declared in config: but never read`);
    for (const key of prompts.keys()) if (!byKey.has(key)) problems.push(`${key}: in template.config: but never read`);
    for (const key of templateOnly) if (!byKey.has(key)) problems.push(`${key}: in TEMPLATE_ONLY but never read`);
    return problems;
}

/** Keys only in the template, per program (see the header): why each has no value to declare. */
const TEMPLATE_ONLY: Record<string, string[]> = {
    // `flotilla-<stack>`
    root: ["poolName"],
    // `?? adminCidr`
    "aws-swarm": ["appCidr"],
    "kubernetes-provider": ["appCidr"],
    // Unset: clone nothing (download Debian 12), untagged, DHCP.
    "proxmox-swarm": ["templateVmId", "vlan", "subnet", "gateway", "firstAddress"],
};

/** Keys read with get* and no `??` whose declared default is the library's own. */
const LIBRARY_DEFAULTS: Record<string, Record<string, { module: string; name: string }>> = {
    // The library constant lives in an internal module (the subpath entry exports only the pool).
    "proxmox-swarm": { bridge: { module: "../../../lib/hosts/proxmox/proxmox-host-pool-args", name: "DEFAULT_PROXMOX_BRIDGE" } },
};

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const examples = fs
    .readdirSync(path.join(ROOT, "examples"), { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(ROOT, "examples", e.name, "index.ts")))
    .map((e) => e.name)
    .sort();
const programs: ProgramCase[] = [
    { name: "root", source: read("program/index.ts"), project: read("Pulumi.yaml") },
    ...examples.map((name) => ({ name, source: read(`examples/${name}/index.ts`), project: read(`examples/${name}/Pulumi.yaml`) })),
].map((p) => ({ ...p, templateOnly: TEMPLATE_ONLY[p.name], libraryDefaults: LIBRARY_DEFAULTS[p.name] }));

describe("the config each program reads is declared in its Pulumi.yaml and template", () => {
    test("the root program and the six examples are checked", () => {
        expect(programs.map((p) => p.name)).toEqual(["root", "aws-swarm", "azure-swarm", "existing-servers", "hybrid", "kubernetes-provider", "proxmox-swarm"]);
        for (const name of Object.keys({ ...TEMPLATE_ONLY, ...LIBRARY_DEFAULTS })) expect(programs.map((p) => p.name)).toContain(name);
    });

    test.each(programs.map((p) => [p.name, p] as const))("%s", (_name, p) => {
        expect(checkProgram(p)).toEqual([]);
        // The parser found the reads (a parse that finds none would pass the rest vacuously).
        expect(configReads(p.source, "x", []).length).toBeGreaterThan(0);
    });

    test("what the parser reads from the root program and an example", () => {
        const root = configReads(read("program/index.ts"), "flotilla", []);
        expect(root.map((r) => [r.key, r.method, r.fallback?.value])).toEqual([
            ["flotilla:managers", "getNumber", 3],
            ["flotilla:workers", "getNumber", 2],
            ["flotilla:subnet", "get", "10.213.0.0/24"],
            ["flotilla:image", "get", "flotilla-demo:v1"],
            ["flotilla:poolName", "get", undefined],
        ]);
        const azure = configReads(read("examples/azure-swarm/index.ts"), "azure-swarm", []);
        expect(azure.find((r) => r.key === "azure-swarm:zones")).toMatchObject({ method: "getObject", fallback: { value: ["1", "2", "3"] } });
    });
});

describe("a mismatch is reported", () => {
    const source = [
        'import * as pulumi from "@pulumi/pulumi";',
        "const config = new pulumi.Config();",
        'const a = config.require("a");',
        'const b = config.getNumber("b") ?? 2;',
        'const c = config.getObject<string[]>("c") ?? ["x"];',
        'const s = config.requireSecret("s");',
        'const o = new pulumi.Config("other").get("o") ?? "z";',
    ].join("\n");
    /** A project file that matches `source`: `config:` and `template.config:` entries. */
    const matching = () => ({
        config: {
            a: { type: "string", description: "A." },
            b: { type: "integer", default: 2, description: "B." },
            c: { default: ["x"], description: "C." },
            s: { type: "string", secret: true, description: "S." },
            "other:o": { type: "string", default: "z", description: "O." },
        } as Record<string, Declaration>,
        template: {
            a: { description: "A" },
            b: { description: "B", default: "2" },
            c: { description: "C", default: '["x"]' },
            s: { description: "S", secret: true },
            "other:o": { description: "O", default: "z" },
        } as Record<string, Declaration>,
    });
    const project = ({ config, template }: ReturnType<typeof matching>) =>
        JSON.stringify({ name: "fake", runtime: "nodejs", config, template: { description: "Fake.", config: template } });

    test("the matching pair has no problem", () => {
        expect(checkProgram({ name: "fake", source, project: project(matching()) })).toEqual([]);
    });

    test.each<[string, (config: Record<string, Declaration>, template: Record<string, Declaration>) => void, string]>([
        ["a key read and not declared", (config) => delete config.b, "fake:b (line 4, getNumber): read but not declared in config:"],
        ["a default unlike the code's fallback", (config) => (config.b.default = 3), "fake:b (line 4, getNumber): declared default 3, the code's fallback is 2"],
        ["a list default unlike the code's", (config) => (config.c.default = ["y"]), 'fake:c (line 5, getObject): declared default ["y"], the code\'s fallback is ["x"]'],
        ["a required key with a default", (config) => (config.a.default = "x"), 'fake:a (line 3, require): required but declared with default "x"'],
        ["an optional key without a default", (config) => delete config.b.default, "fake:b (line 4, getNumber): optional (fallback 2) but declared without a default"],
        ["a missing description", (config) => delete config.a.description, "fake:a (line 3, require): declared without a description"],
        ["a wrong type", (config) => (config.b.type = "string"), "fake:b (line 4, getNumber): declared with type string, expected integer"],
        ["a secret read declared plain", (config) => delete config.s.secret, "fake:s (line 6, requireSecret): declared not secret, read as a secret"],
        ["a stale key", (config) => (config.gone = { type: "string", default: "x", description: "Gone." }), "fake:gone: declared in config: but never read"],
        ["a key missing from the template", (_config, template) => delete template.a, "fake:a (line 3, require): not in template.config:"],
        ["a template default unlike the declared one", (_config, template) => (template.b.default = "5"), 'fake:b (line 4, getNumber): template.config: default "5", expected "2"'],
        ["a stale template key", (_config, template) => (template.gone = { description: "Gone" }), "fake:gone: in template.config: but never read"],
    ])("%s", (_what, change, problem) => {
        const files = matching();
        change(files.config, files.template);
        expect(checkProgram({ name: "fake", source, project: project(files) })).toContain(problem);
    });

    test("a template-only key must not be declared, and only an optional key without a literal fallback may be one", () => {
        const declared = checkProgram({ name: "fake", source, project: project(matching()), templateOnly: ["b"] });
        expect(declared).toContain("fake:b (line 4, getNumber): in TEMPLATE_ONLY but its fallback is 2: declare it in config:");
        expect(declared).toContain("fake:b (line 4, getNumber): declared in config: (its default would go to every stack; without one it is required)");
    });
});
