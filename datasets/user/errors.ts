/**
 * What is wrong with data the user brings, and where: the file (a path as the user gave it, or
 * relative to the folder they gave), and for tables the row (1-based, the header row counting as
 * row 1, as a spreadsheet numbers them) and the column (its header name and 1-based position).
 *
 * A `UserDataError` refuses the data; a warning (a file skipped) is a line the caller shows, and
 * `--strict` turns warnings into a refusal (`refuseWarnings`). Plain data, no tfjs, no Node.
 */

export interface DataProblemPlace {
  /** The file or folder. */
  file: string;
  /** 1-based row of a table (the header, when there is one, is row 1). */
  row?: number;
  /** A table's column: its name (from the header, or "column N") and its 1-based position. */
  column?: { name: string; index: number };
}

export function placeText(p: DataProblemPlace): string {
  const parts = [p.file];
  if (p.row !== undefined) parts.push(`row ${p.row}`);
  if (p.column !== undefined) parts.push(p.column.name === `column ${p.column.index}` ? p.column.name : `column '${p.column.name}' (${p.column.index})`);
  return parts.join(', ');
}

/** Data the user gave that cannot be used; the message starts with the place (file, row, column). */
export class UserDataError extends Error {
  override readonly name = 'UserDataError';
  readonly place: DataProblemPlace;
  constructor(place: DataProblemPlace, what: string) {
    super(`${placeText(place)}: ${what}`);
    this.place = place;
  }
}

/** A problem that does not stop the data from being used (a file skipped), kept to be shown. */
export interface DataWarning {
  place: DataProblemPlace;
  message: string;
}

export const warningText = (w: DataWarning) => `${placeText(w.place)}: ${w.message}`;

/** `--strict`: the first warning becomes an error (with how many there are). */
export function refuseWarnings(warnings: readonly DataWarning[]): void {
  const first = warnings[0];
  if (!first) return;
  const more = warnings.length > 1 ? ` (and ${warnings.length - 1} more problem${warnings.length === 2 ? '' : 's'})` : '';
  throw new UserDataError(first.place, `${first.message.replace(/: skipped$/, '')}; refused with --strict${more}`);
}
