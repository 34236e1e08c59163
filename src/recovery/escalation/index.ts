export { ConsoleNotifier } from './ConsoleNotifier.js';
export { DeliveryError, type DeliveryErrorCode } from './DeliveryError.js';
export { DeliveryQueue, type DeliveryQueueOptions } from './DeliveryQueue.js';
export { EmailNotifier, type EmailNotifierOptions, type SmtpSettings } from './EmailNotifier.js';
export { EscalationDispatcher, DEFAULT_DEDUPE_WINDOW_MS, type EscalationDispatcherOptions } from './EscalationDispatcher.js';
export { escalationPayload, escalationSubject, escalationText, nextSteps } from './formatEscalation.js';
export type { AlertLog, ChannelCounters, Escalation, EscalationReason, Notifier } from './Notifier.js';
export { DEFAULT_SMTP, notifiersFromConfig, type AlertsConfig } from './notifiersFromConfig.js';
export { WebhookNotifier, type WebhookNotifierOptions } from './WebhookNotifier.js';
