export * from "./document.ts";
export * from "./languages.ts";
export * from "./presence.ts";
export * from "./tests.ts";
