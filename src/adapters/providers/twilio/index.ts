export { loadTwilioConfig, type TwilioConfig } from './config.ts';
export { createTwilioProvider } from './provider.ts';
