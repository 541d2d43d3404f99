import type { StepDefinition } from '../types.js'
import { ociDownload } from './oci-download.js'
import { ociPush } from './oci-push.js'

/** OCI artifact steps (Kargo's names and configs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ociSteps: StepDefinition<any>[] = [ociDownload, ociPush]
