export { type IceConfig, iceServersFor, readIceConfig } from "./iceConfig.ts";
export {
	type CallIdentity,
	identifyFromContext,
	MAX_SIGNAL_BYTES,
	SignalFlood,
	SignallingExtension,
	type SignallingOptions,
	SignalTooLarge,
} from "./SignallingExtension.ts";
export * from "./signals.ts";
