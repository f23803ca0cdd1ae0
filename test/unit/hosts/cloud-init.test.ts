import { multipartUserData, partType } from "../../../lib/shared/cloud-init";

describe("multipartUserData", () => {
    test("one part is returned as it is", () => {
        expect(multipartUserData(["#cloud-config\n{}\n"])).toBe("#cloud-config\n{}\n");
    });

    test("several parts become a MIME multipart document cloud-init reads, cloud-config merged by append", () => {
        const text = multipartUserData(["#cloud-config\n{\"a\": 1}\n", "#!/bin/bash\necho hi\n"]);
        const boundary = /boundary="([^"]+)"/.exec(text)?.[1] as string;
        expect(boundary).toMatch(/^flotilla-[0-9a-f]{24}$/);
        expect(text).toBe(
            [
                `Content-Type: multipart/mixed; boundary="${boundary}"`,
                "MIME-Version: 1.0",
                "",
                `--${boundary}`,
                'Content-Type: text/cloud-config; charset="utf-8"',
                "MIME-Version: 1.0",
                "Content-Transfer-Encoding: 7bit",
                'Content-Disposition: attachment; filename="part-01"',
                "Merge-Type: list(append)+dict(no_replace,recurse_list)+str()",
                "",
                '#cloud-config\n{"a": 1}',
                `--${boundary}`,
                'Content-Type: text/x-shellscript; charset="utf-8"',
                "MIME-Version: 1.0",
                "Content-Transfer-Encoding: 7bit",
                'Content-Disposition: attachment; filename="part-02"',
                "",
                "#!/bin/bash\necho hi",
                `--${boundary}--`,
                "",
            ].join("\n"),
        );
        // stable: the same parts give the same document
        expect(multipartUserData(["#cloud-config\n{\"a\": 1}\n", "#!/bin/bash\necho hi\n"])).toBe(text);
    });

    test("a part of unknown kind is refused with what is accepted", () => {
        expect(() => partType("echo hi")).toThrow(
            'a user data part must start with "#cloud-config", "#!" (a script) or "#cloud-boothook"; this one starts with "echo hi"',
        );
        expect(() => multipartUserData([])).toThrow("user data needs at least one part");
    });
});
