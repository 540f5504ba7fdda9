// File formats (EDAM URIs) and the file endings A_A's in_glob uses for them, both ways.
import { EDAM_NAMESPACE } from './read';

/** EDAM format number → ending; the first ending of a format is the one written. */
const EDAM: Array<[string, string[]]> = [
  ['1929', ['.fasta', '.fa', '.faa', '.fna']],
  ['1930', ['.fastq', '.fq']],
  ['1476', ['.pdb']],
  ['2330', ['.txt']],
  ['3752', ['.csv']],
  ['3475', ['.tsv']],
  ['3464', ['.json']],
  ['3750', ['.yaml', '.yml']],
  ['2332', ['.xml']],
  ['2331', ['.html']],
  ['3508', ['.pdf']],
  ['3603', ['.png']],
  ['3467', ['.gif']],
  ['3579', ['.jpeg', '.jpg']],
  ['2573', ['.sam']],
  ['2572', ['.bam']],
  ['3016', ['.vcf']],
  ['1975', ['.gff3']],
  ['1982', ['.aln']],
];

/** The ending for a format URI (`http://edamontology.org/format_1929` → `.fasta`), or null. */
export function endingOfFormat(uri: string): string | null {
  const m = /format_(\d+)$/.exec(uri);
  if (!m || !uri.startsWith(EDAM_NAMESPACE)) return null;
  return EDAM.find(([n]) => n === m[1])?.[1][0] ?? null;
}

/** The EDAM format of an ending (`.fa` → `edam:format_1929`), or null. */
export function formatOfEnding(ending: string): string | null {
  const lower = ending.toLowerCase();
  const hit = EDAM.find(([, endings]) => endings.includes(lower));
  return hit ? `edam:format_${hit[0]}` : null;
}
