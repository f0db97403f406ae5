/**
 * Message statuses follow from the evidence issued for the message.
 *   ACCEPTED  — SubmissionAcceptance sealed
 *   REJECTED  — SubmissionRejection
 *   DEPOSITED — ContentConsignment (in the recipient's e-Box)
 *   FAILED    — ContentConsignmentFailure
 *   CONSULTED — ContentHandover (recipient opened it)
 *   EXPIRED   — ContentHandoverFailure
 * RECEIVED is the state between durable intake and the first sealed evidence.
 */
export const MESSAGE_STATUSES = ['RECEIVED', 'ACCEPTED', 'REJECTED', 'DEPOSITED', 'FAILED', 'CONSULTED', 'EXPIRED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
