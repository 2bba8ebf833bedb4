export * from "./document.ts";
export * from "./languages.ts";
export * from "./tests.ts";
export * from "./presence.ts";
