import twilio from 'twilio';

/** The X-Twilio-Signature Twilio sends for a POST of these form fields to `url`, computed by Twilio's own SDK. */
export function signedByTwilio(authToken: string, url: string, params: URLSearchParams): string {
  const fields: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    fields[name] = values.length === 1 ? values[0]! : values;
  }
  return twilio.getExpectedTwilioSignature(authToken, url, fields);
}
