/** API keys are events too: the digest of a key, never the key itself, is what gets stored. */
export const API_KEYS_STREAM = 'apikeys';

export type ApiKeyEvent = { type: 'ApiKeyIssued'; data: { keyId: string; sha256: string; label: string; at: string } };
