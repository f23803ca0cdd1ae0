/**
 * The orchestrator-neutral application spec: its types, quantities, defaults, normalization and
 * (from core) image references. Re-exports only.
 */
export * from "./types";
export * from "./quantities";
export * from "./defaults";
export * from "./normalize";
export type { ImageReference } from "../../core/image-ref";
export { parseImageReference } from "../../core/image-ref";
