export * from "./document.ts";
export * from "./languages.ts";
export * from "./limits.ts";
export * from "./presence.ts";
export * from "./tests.ts";
export * from "./updateShape.ts";
