// Owns the `seq` validator: a protein FASTA upload, one sequence or an alignment, by A_A's rules.
import { scanText } from '../read';
import { registerValidator } from '../registry';

const MIN_LENGTH = 30;
const MAX_LENGTH = 1500;
const NUCLEOTIDES = new Set('ATCGUNatcgun');
// A_A's [^ACDEFGHIKLMNPQRSTVWYX-] under Python's re.IGNORECASE, which also lets through the
// four non-ASCII letters that case-fold onto this alphabet: İ ı ſ and the Kelvin sign.
const RESIDUES = new Set('ACDEFGHIKLMNPQRSTVWYX-acdefghiklmnpqrstvwyx\u0130\u0131\u017f\u212a');
// Python str.splitlines() boundaries ("\r\n" counts once).
const LINE_BREAKS = new Set(['\n', '\r', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029']);

/** What the sequence test needs, gathered one residue at a time so no sequence is held in memory. */
interface SeqStats {
  length: number;
  nucleotides: number;
  illegal: boolean;
}

const newStats = (): SeqStats => ({ length: 0, nucleotides: 0, illegal: false });

function addResidue(stats: SeqStats, ch: string): void {
  stats.length++;
  if (NUCLEOTIDES.has(ch)) stats.nucleotides++;
  if (!RESIDUES.has(ch)) stats.illegal = true;
}

/** Already certain to fail, however the file continues. */
const hopeless = (stats: SeqStats): boolean => stats.illegal || stats.length > MAX_LENGTH;

/** A_A `__test_seq`: 30–1500 residues, under 95% ACGTUN (else nucleotide), protein alphabet only. */
function passes(stats: SeqStats): boolean {
  if (stats.length < MIN_LENGTH || stats.length > MAX_LENGTH) return false;
  if (stats.nucleotides / stats.length >= 0.95) return false;
  return !stats.illegal;
}

/**
 * A_A's `seq`, read as a stream. The mode depends on the count of '>' anywhere in the text
 * (≤ 1: single sequence, else alignment), which is only known at the end, so both readings are
 * followed at once; reading stops as soon as both are certain to fail.
 */
class SeqScan {
  private headers = 0;
  private atLineStart = true;
  private afterCR = false;

  /** Single reading: every line not starting with '>' or ';', joined. */
  private single = newStats();
  private singleLine = false;

  /** Alignment reading: each '>' line starts a sequence; all other lines belong to the current one. */
  private sequences = 0;
  private firstLength = 0;
  private residues = 0;
  private current = newStats();
  private alignmentLine = false;
  private alignmentFailed = false;

  /** Consumes text; false once the verdict can only be false. */
  feed(text: string): boolean {
    for (const ch of text) {
      if (this.afterCR) {
        this.afterCR = false;
        if (ch === '\n') continue;
      }
      if (ch === '>') this.headers++;
      if (this.atLineStart) {
        this.startLine(ch);
        this.atLineStart = false;
      }
      if (LINE_BREAKS.has(ch)) {
        this.atLineStart = true;
        this.afterCR = ch === '\r';
        continue;
      }
      if (this.singleLine) addResidue(this.single, ch);
      if (this.alignmentLine && !this.alignmentFailed) {
        this.residues++;
        addResidue(this.current, ch);
      }
    }
    const singleFails = this.headers > 1 || hopeless(this.single);
    const alignmentFails = this.alignmentFailed || hopeless(this.current);
    return !(singleFails && alignmentFails);
  }

  verdict(): boolean {
    if (this.headers <= 1) return passes(this.single);
    this.closeSequence();
    return !this.alignmentFailed && this.residues === this.firstLength * this.sequences;
  }

  private startLine(first: string): void {
    this.singleLine = first !== '>' && first !== ';';
    this.alignmentLine = first !== '>';
    if (first === '>') {
      this.closeSequence();
      this.sequences++;
      this.current = newStats();
    } else if (this.sequences === 0) {
      // Text before the first header: A_A raised KeyError here (HTTP 507).
      this.alignmentFailed = true;
    }
  }

  private closeSequence(): void {
    if (this.sequences === 0) return;
    if (this.sequences === 1) this.firstLength = this.current.length;
    if (!passes(this.current)) this.alignmentFailed = true;
  }
}

/** True when the file is a protein FASTA sequence or alignment A_A would accept. */
export async function isProteinFasta(file: string): Promise<boolean> {
  const scan = new SeqScan();
  const end = await scanText(file, (text) => scan.feed(text));
  return end === 'end' && scan.verdict();
}

registerValidator({
  name: 'seq',
  description: 'A protein FASTA file: one sequence or an alignment of equal-length sequences, 30–1500 residues each.',
  check: isProteinFasta,
});
