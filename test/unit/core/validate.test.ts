import { show, Validator } from "../../../lib/core/validate";
import { messageOf } from "../mocks";

const v = new Validator("flotilla:test:Thing", "thing");


describe("Validator", () => {
    test.each([
        [0, 'flotilla:test:Thing "thing": invalid size: received 0; expected an integer from 1 to 64.'],
        [65, 'flotilla:test:Thing "thing": invalid size: received 65; expected an integer from 1 to 64.'],
        [1.5, 'flotilla:test:Thing "thing": invalid size: received 1.5; expected an integer from 1 to 64.'],
        ["3", 'flotilla:test:Thing "thing": invalid size: received "3"; expected an integer from 1 to 64.'],
        [NaN, 'flotilla:test:Thing "thing": invalid size: received NaN; expected an integer from 1 to 64.'],
        [undefined, 'flotilla:test:Thing "thing": invalid size: received undefined; expected an integer from 1 to 64.'],
    ])("integer %p", (value, message) => {
        expect(messageOf(() => v.integer("size", value, 1, 64))).toBe(message);
    });

    test("integer accepts the bounds", () => {
        expect(v.integer("size", 1, 1, 64)).toBe(1);
        expect(v.integer("size", 64, 1, 64)).toBe(64);
    });

    const dnsExpected =
        "expected a DNS-safe name of 1 to 40 characters: lower-case letters, digits and '-', starting and ending with a letter or digit.";
    test.each(["Lab", "lab_1", "-lab", "lab-", "", "a".repeat(41), "lab.x"])("dnsLabel rejects %p", (value) => {
        expect(messageOf(() => v.dnsLabel("poolName", value, 40))).toBe(
            `flotilla:test:Thing "thing": invalid poolName: received ${JSON.stringify(value)}; ${dnsExpected}`,
        );
    });

    test.each(["lab", "a", "lab-1", "0lab", "a".repeat(40)])("dnsLabel accepts %p", (value) => {
        expect(v.dnsLabel("poolName", value, 40)).toBe(value);
    });

    test("oneOf", () => {
        expect(v.oneOf("source", "apt", ["apt", "distro"] as const)).toBe("apt");
        expect(messageOf(() => v.oneOf("source", "yum", ["apt", "distro"]))).toBe(
            'flotilla:test:Thing "thing": invalid source: received "yum"; expected one of "apt", "distro".',
        );
    });

    test("labels", () => {
        expect(v.labels("labels", { team: "web", "example.com/tier": "front" })).toEqual({
            team: "web",
            "example.com/tier": "front",
        });
        expect(v.labels("labels", undefined)).toEqual({});
        expect(messageOf(() => v.labels("labels", { team: 3 }))).toBe(
            "flotilla:test:Thing \"thing\": invalid labels.team: received 3; expected a string of letters, digits, '.', '_', ':', '/' and '-' (at most 253).",
        );
        expect(messageOf(() => v.labels("labels", ["a"]))).toBe(
            'flotilla:test:Thing "thing": invalid labels: received ["a"]; expected an object mapping label names to string values.',
        );
    });

    test("show keeps messages short", () => {
        expect(show("x".repeat(500))).toHaveLength(120);
        expect(show(Infinity)).toBe("Infinity");
    });
});
