/**
 * Signing the receipt: a signature field with a placeholder (@signpdf/placeholder-pdf-lib,
 * SubFilter ETSI.CAdES.detached), the file written without object streams, the /ByteRange
 * filled in and the CMS put into /Contents (@signpdf/signpdf). The CMS itself is the
 * project's: PAdES B-T from the sealing key and the service's TSA (Sealer.signPdf,
 * src/crypto/Pades.ts).
 */
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { SUBFILTER_ETSI_CADES_DETACHED, Signer as PdfSigner } from '@signpdf/utils';
import type { PDFDocument } from 'pdf-lib';

export interface PdfSealer {
  /** The largest signature (DER) `signPdf` returns. */
  readonly pdfSignatureMaxLength: number;
  /** The CMS over the signed byte range. */
  signPdf(signedBytes: Uint8Array): Promise<Uint8Array>;
}

class SealerSigner extends PdfSigner {
  constructor(private readonly sealer: PdfSealer) {
    super();
  }

  override async sign(pdfBuffer: Buffer): Promise<Buffer> {
    return Buffer.from(await this.sealer.signPdf(pdfBuffer));
  }
}

/**
 * Signs `doc` with room for a signature of `capacity` bytes. The placeholder's length is
 * given to @signpdf in hex digits (two per byte), so it is always even: an odd length would
 * leave the /ByteRange one byte past the end of the file.
 */
export async function signReceipt(
  doc: PDFDocument,
  sealer: PdfSealer,
  fields: { name: string; reason: string; location: string; signingTime: Date },
  capacity: number = sealer.pdfSignatureMaxLength,
): Promise<Buffer> {
  pdflibAddPlaceholder({
    pdfDoc: doc,
    name: fields.name,
    reason: fields.reason,
    location: fields.location,
    contactInfo: '',
    signingTime: fields.signingTime,
    signatureLength: 2 * capacity,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
    appName: 'registered-mail',
  });
  const unsigned = Buffer.from(await doc.save({ useObjectStreams: false }));
  return new SignPdf().sign(unsigned, new SealerSigner(sealer));
}

/** The signature's length in bytes when it did not fit its placeholder, else undefined. */
export function signatureTooLong(err: unknown): number | undefined {
  const m = err instanceof Error ? /Signature exceeds placeholder length: (\d+) >/.exec(err.message) : null;
  return m ? Math.ceil(Number(m[1]) / 2) : undefined;
}
