// Owns the table of input validators by name; built-ins add themselves on import.

/** One check a Job can run on an uploaded input file before accepting a submission. */
export interface ValidatorDef {
  /** Name stored on the Job and used by A_A (`seq`, `png`, …); unique. */
  name: string;
  /** One sentence for the designer's validator palette. */
  description: string;
  /**
   * Resolves true when the file at `file` passes. Never rejects for bad or unexpected data:
   * wrong-type content is simply `false`. Rejects only when the file cannot be read at all.
   */
  check(file: string): Promise<boolean>;
}

const validators = new Map<string, ValidatorDef>();

/** Adds a validator; a second registration under the same name is a programming error. */
export function registerValidator(def: ValidatorDef): void {
  if (validators.has(def.name)) throw new Error(`validator "${def.name}" is already registered`);
  validators.set(def.name, def);
}

export function getValidator(name: string): ValidatorDef | undefined {
  return validators.get(name);
}

/** Every registered validator, sorted by name (A_A registers its validator types alphabetically). */
export function listValidators(): ValidatorDef[] {
  return [...validators.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
