/**
 * What each embedding's drift is measured against: the embedding of the
 * run's initial prompt (`prompt`), the run's first TEXT embedding by the same
 * model (`first`), or the previous one of the same run and model
 * (`previous`, step-to-step drift).
 */
export const REFERENCE_MODES = ["prompt", "first", "previous"] as const;
export type ReferenceMode = (typeof REFERENCE_MODES)[number];
