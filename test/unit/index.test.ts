import { recordResources } from "./mocks";

const registered = recordResources();

test("importing the library creates nothing", async () => {
    const lib = await import("../../lib");
    expect(typeof lib.LabHostPool).toBe("function");
    expect(typeof lib.ExistingHosts).toBe("function");
    expect(typeof lib.hosts.ExistingHosts).toBe("function");
    await new Promise((r) => setTimeout(r, 50));
    expect(registered).toEqual([]);
});
