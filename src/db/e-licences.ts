import { and, eq, inArray, sql } from 'drizzle-orm'
import type { RecordedEvent } from '../domain/case-view.ts'
import type { Tx } from './client.ts'
import type { PersonalData } from './personal-data.ts'
import { serviceItemVersions, sharedMaterials } from './schema.ts'

/**
 * DOMAIN rule 37: a result issued with a certificate becomes an e-licence, stored as shared data
 * under the holder's id and the source its item's guide names (`resultSource`), where pre-review
 * finds it for later applications (rule 19). Runs in the projection's transaction on events recorded
 * for the first time, so a retried projection stores nothing twice; a later certificate of the same
 * source replaces the holder's earlier one. The holder is stored as a blind index of the id (no
 * identity number in clear), looked up by every key's index (createTableSharedData).
 */
export async function storeIssuedCertificates(tx: Tx, personal: PersonalData, fresh: readonly RecordedEvent[]): Promise<void> {
  for (const { event, view } of fresh) {
    const certificateNo = event.data.certificateNo
    if (event.type !== 'result_issued' || typeof certificateNo !== 'string') continue
    if (!view.applicant || !view.serviceItemCode || view.serviceItemVersion === undefined) continue
    // The case's own guide version: its item may name another source (or none) by now.
    const [guide] = await tx.select({ resultSource: sql<string | null>`${serviceItemVersions.guide} ->> 'resultSource'` })
      .from(serviceItemVersions)
      .where(and(eq(serviceItemVersions.code, view.serviceItemCode), eq(serviceItemVersions.version, view.serviceItemVersion)))
    const source = guide?.resultSource
    if (!source) continue
    // The holder's earlier certificate may be indexed under an older key: replaced, not kept beside this one.
    const indexes = personal.subjectIndexes(view.applicant.idNumber)
    await tx.delete(sharedMaterials).where(and(eq(sharedMaterials.source, source), inArray(sharedMaterials.subject, indexes)))
    await tx.insert(sharedMaterials).values({ source, subject: personal.subjectIndex(view.applicant.idNumber), ref: certificateNo })
      .onConflictDoUpdate({ target: [sharedMaterials.source, sharedMaterials.subject], set: { ref: certificateNo, updatedAt: sql`now()` } })
  }
}
