// Copies the shell scripts that ship with the library next to the compiled JavaScript
// (lib/**/scripts/*.sh -> dist/lib/**/scripts/*.sh), so readScript() finds them from dist/ too.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
let copied = 0;
function walk(dir) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name.endsWith(".sh")) {
            const target = path.join(root, "dist", path.relative(root, p));
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.copyFileSync(p, target);
            copied++;
        }
    }
}
walk(path.join(root, "lib"));
// The build's stamp: scripts/setup.sh rebuilds dist/ only when a file under lib/ is newer.
fs.writeFileSync(path.join(root, "dist", ".built"), `${new Date().toISOString()}\n`);
console.log(`copied ${copied} scripts into dist/`);
