import { formatIpv4, gatewayAddress, hostAddress, isPrivate, parseCidr, parseIpv4, usableHostCount } from "../../../lib/core/ipv4";

describe("parseCidr", () => {
    test.each([
        ["10.213.0.0/24", { cidr: "10.213.0.0/24", prefix: 24, size: 256 }],
        ["192.168.4.0/22", { cidr: "192.168.4.0/22", prefix: 22, size: 1024 }],
        ["172.16.0.0/12", { cidr: "172.16.0.0/12", prefix: 12, size: 1048576 }],
        ["0.0.0.0/0", { cidr: "0.0.0.0/0", prefix: 0, size: 4294967296 }],
    ])("%s parses", (text, expected) => {
        expect(parseCidr(text)).toMatchObject(expected);
    });

    test.each([
        [42, "not a string"],
        ["10.0.0.0", "not in a.b.c.d/prefix form"],
        ["10.0.0/8", "not a valid IPv4 address"],
        ["10.0.0.256/24", "not a valid IPv4 address"],
        ["10.00.0.0/24", "not a valid IPv4 address"],
        ["10.0.0.0/33", "prefix longer than 32"],
        ["10.0.0.1/24", "host bits set (did you mean 10.0.0.0/24?)"],
        [" 10.0.0.0/24", "not in a.b.c.d/prefix form"],
    ])("%p is rejected: %s", (text, reason) => {
        expect(parseCidr(text)).toBe(reason);
    });
});

describe("isPrivate", () => {
    test.each([
        ["10.213.0.0/24", true],
        ["10.0.0.0/8", true],
        ["172.16.0.0/12", true],
        ["172.31.255.0/24", true],
        ["192.168.0.0/16", true],
        ["172.32.0.0/24", false],
        ["172.0.0.0/8", false],
        ["8.8.8.0/24", false],
        ["192.168.0.0/15", false],
    ])("%s -> %p", (text, expected) => {
        const subnet = parseCidr(text);
        if (typeof subnet === "string") throw new Error(subnet);
        expect(isPrivate(subnet)).toBe(expected);
    });
});

describe("addresses", () => {
    const subnet = parseCidr("10.213.5.0/29");
    if (typeof subnet === "string") throw new Error(subnet);

    test("a /29 has room for 5 machines: not the network, gateway or broadcast", () => {
        expect(usableHostCount(subnet)).toBe(5);
        expect(gatewayAddress(subnet)).toBe("10.213.5.1");
        expect([0, 1, 2, 3, 4].map((i) => hostAddress(subnet, i))).toEqual([
            "10.213.5.2",
            "10.213.5.3",
            "10.213.5.4",
            "10.213.5.5",
            "10.213.5.6",
        ]);
        expect(() => hostAddress(subnet, 5)).toThrow("machine index 5 does not fit in 10.213.5.0/29");
    });

    test("round trip of dotted quads", () => {
        for (const text of ["0.0.0.0", "255.255.255.255", "10.213.0.2", "172.16.254.1"]) {
            expect(formatIpv4(parseIpv4(text) as number)).toBe(text);
        }
        expect(parseIpv4("1.2.3")).toBeUndefined();
    });
});
