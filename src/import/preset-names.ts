/** The `qrobust import --preset` names, apart from their implementations so the CLI's help loads nothing. */
export type ImportPreset = 'henzinger2021';
export const IMPORT_PRESETS: readonly ImportPreset[] = ['henzinger2021'];
