import { checkLabels } from './validate';

/** The label every Waymark resource carries, so a project's Waymark resources can be listed and billed together. */
export const MANAGED_BY = { 'managed-by': 'waymark' } as const;

/** A construct's labels: the user's, validated, plus {@link MANAGED_BY}. */
export function constructLabels(construct: string, labels: Readonly<Record<string, string>> = {}): Record<string, string> {
  checkLabels(construct, 'labels', labels);
  return { ...labels, ...MANAGED_BY };
}
