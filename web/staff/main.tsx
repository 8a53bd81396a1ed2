import { mount } from '../shared/mount.js';
import { ConsoleApp } from './console.js';

// The staff console: loading at the counter, retrieval, alarms, the live box, figures, the audit log.
mount(() => <ConsoleApp mode="staff" />);
