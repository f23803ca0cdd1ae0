export * from "./app-spec";
export * from "./compose";
