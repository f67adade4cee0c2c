/**
 * The bodies of the Twilio request client's own HTTP calls (client.ts, HeraldRequestClient), as
 * the SDK's axios writes and reads them: the form it sends and the response it hands back.
 */

/** As axios reads a response body by default: JSON when it parses, the text otherwise. */
export function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The SDK's request data or params as form pairs, as it encodes them (qs, arrayFormat 'repeat'):
 * an array repeats its key, null is an empty value, undefined is left out. Twilio's parameters
 * are flat: the SDK turns dates, objects and lists into strings or arrays of strings first.
 */
export function formPairs(data: object): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(data)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined) continue;
      pairs.push([key, item === null ? '' : String(item)]);
    }
  }
  return pairs;
}
