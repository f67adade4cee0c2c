export { TWILIO_DEFAULT_TIMEOUT_MS, TWILIO_TIMEOUT_VAR, loadTwilioConfig, type TwilioConfig } from './config.ts';
export { createTwilioProvider } from './provider.ts';
