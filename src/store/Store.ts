import type { Knex } from 'knex';
import { CheckpointRepository } from './CheckpointRepository.js';
import { ContactRepository } from './ContactRepository.js';
import { EboxRepository } from './EboxRepository.js';
import { EventRepository } from './EventRepository.js';
import { EvidenceRepository } from './EvidenceRepository.js';
import { JobRepository } from './JobRepository.js';
import { MessageRepository } from './MessageRepository.js';
import { NotificationRepository } from './NotificationRepository.js';
import { SenderRepository } from './SenderRepository.js';
import { UsageRepository } from './UsageRepository.js';

/** The repositories, bound to the database or to one transaction. */
export class Store {
  readonly senders: SenderRepository;
  readonly messages: MessageRepository;
  readonly evidence: EvidenceRepository;
  readonly events: EventRepository;
  readonly jobs: JobRepository;
  readonly ebox: EboxRepository;
  readonly checkpoints: CheckpointRepository;
  readonly contacts: ContactRepository;
  readonly notifications: NotificationRepository;
  readonly usage: UsageRepository;

  constructor(readonly db: Knex) {
    this.senders = new SenderRepository(db);
    this.messages = new MessageRepository(db);
    this.evidence = new EvidenceRepository(db);
    this.events = new EventRepository(db);
    this.jobs = new JobRepository(db);
    this.ebox = new EboxRepository(db);
    this.checkpoints = new CheckpointRepository(db);
    this.contacts = new ContactRepository(db);
    this.notifications = new NotificationRepository(db);
    this.usage = new UsageRepository(db);
  }

  /** Runs `work` in one transaction: all its writes commit together or not at all. */
  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => work(new Store(trx)));
  }

  /** Checks the database answers (health check). */
  async ping(): Promise<void> {
    await this.db.raw('select 1');
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
