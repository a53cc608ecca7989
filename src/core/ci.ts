/** Whether this run is a CI job, from the `CI` variable that CI services set. */

/** True when `CI` is set to anything but '', '0' or 'false' (any case): `CI=false` means not CI. */
export function isCI(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const v = env['CI'];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
