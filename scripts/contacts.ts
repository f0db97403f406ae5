/**
 * Manages the notification contact directory (the same checks as the admin API).
 *
 *   npm run contacts -- set --type citizen --id 85073003328 --phone +32470123456 --language fr
 *   npm run contacts -- show --type citizen --id 85073003328
 *   npm run contacts -- remove --type citizen --id 85073003328
 *   npm run contacts -- add-installation --type citizen --id 85073003328 --token PUSH_TOKEN \
 *       --key device-public.jwk.json [--installation-id ID] [--device-name "Pixel 8"] [--disabled]
 *   npm run contacts -- set-installation --type citizen --id 85073003328 --installation-id ID --enabled|--disabled
 *   npm run contacts -- remove-installation --type citizen --id 85073003328 --installation-id ID
 * Output is JSON.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import { ContactService } from '../src/notifications/contacts.js';
import { migrateLatest, openDatabase } from '../src/store/database.js';
import { Repositories } from '../src/store/Repositories.js';

const USAGE = 'usage: contacts set|show|remove|add-installation|set-installation|remove-installation --type citizen|enterprise --id NUMBER [options] (see the header of scripts/contacts.ts)';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      id: { type: 'string' },
      phone: { type: 'string' },
      language: { type: 'string' },
      token: { type: 'string' },
      key: { type: 'string' },
      'installation-id': { type: 'string' },
      'device-name': { type: 'string' },
      enabled: { type: 'boolean', default: false },
      disabled: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (!command || !values.type || !values.id) {
    console.error(USAGE);
    process.exit(3);
  }
  const config = loadConfig();
  const db = openDatabase(config.database);
  try {
    await migrateLatest(db);
    const contacts = new ContactService(new Repositories(db), config);
    const { type, id } = values;
    let out: unknown;
    switch (command) {
      case 'set':
        out = (await contacts.put(type, id, { phoneNumber: values.phone, language: values.language })).contact;
        break;
      case 'show':
        out = await contacts.get(type, id);
        break;
      case 'remove':
        await contacts.remove(type, id);
        out = { removed: true };
        break;
      case 'add-installation': {
        if (!values.key) throw new ServiceError('CONTACT_INVALID', '--key FILE (the public JWK) is required');
        const publicKey = JSON.parse(fs.readFileSync(values.key, 'utf8')) as unknown;
        out = await contacts.addInstallation(type, id, {
          id: values['installation-id'],
          pushToken: values.token,
          publicKey,
          deviceName: values['device-name'],
          notificationsEnabled: !values.disabled,
        });
        break;
      }
      case 'set-installation':
        if (!values['installation-id'] || values.enabled === values.disabled) throw new ServiceError('CONTACT_INVALID', '--installation-id and one of --enabled / --disabled are required');
        out = await contacts.updateInstallation(type, id, values['installation-id'], { notificationsEnabled: values.enabled });
        break;
      case 'remove-installation':
        if (!values['installation-id']) throw new ServiceError('CONTACT_INVALID', '--installation-id is required');
        await contacts.removeInstallation(type, id, values['installation-id']);
        out = { removed: true };
        break;
      default:
        console.error(USAGE);
        process.exit(3);
    }
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof ServiceError ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
