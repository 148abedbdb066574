#!/usr/bin/env node
// The Telegram peer of the channel tests: the npm package telegram-test-api (an independent
// emulator of the Bot API) listening on 127.0.0.1:<port>, started by tests/test_telegram_peer.py.
//
//   node tests/peers/telegram_peer.js <port>     prints "READY <port>" once it listens
//
// The bot talks to http://127.0.0.1:<port>/bot<token>/<method> (its Bot API); the test plays the
// user through the emulator's client API: POST /sendMessage, /sendCommand, /sendCallback,
// /getUpdates (the bot's messages to a chat) and /getUpdatesHistory.
//
// Four places where the emulator (4.2.1) differs from the real Bot API are aligned here, each as
// documented at https://core.telegram.org/bots/api :
//  0. getMe returns a User with the required field is_bot (#getme, #user);
//  1. webhook calls carry the X-Telegram-Bot-Api-Secret-Token header when setWebhook was given a
//     secret_token (#setwebhook); the emulator sends no header;
//  2. a callback_query update has the required field chat_instance (#callbackquery);
//  3. the result of sendMessage is a Message (#message): date in Unix seconds (the emulator gives
//     milliseconds) and object fields as objects (the emulator echoes the request's JSON strings,
//     e.g. link_preview_options).
// A failed webhook call is logged instead of crashing the emulator (unhandled rejection).
'use strict';

const TelegramServer = require('telegram-test-api');
// The emulator's own copy of express, wherever npm placed it.
const express = require(require.resolve('express', { paths: [require.resolve('telegram-test-api')] }));

// The parts of a multipart/form-data body as {name: Buffer}.
function parseMultipart(contentType, body) {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  const out = {};
  if (!m) return out;
  const boundary = Buffer.from(`--${m[1]}`);
  let start = body.indexOf(boundary);
  while (start !== -1) {
    const next = body.indexOf(boundary, start + boundary.length);
    if (next === -1) break;
    const part = body.subarray(start + boundary.length + 2, next - 2);  // skip CRLF after, before
    const split = part.indexOf('\r\n\r\n');
    if (split !== -1) {
      const head = part.subarray(0, split).toString('utf8');
      const name = /name="([^"]+)"/i.exec(head);
      if (name) out[name[1]] = part.subarray(split + 4);
    }
    start = next;
  }
  return out;
}

class AlignedTelegramServer extends TelegramServer {
  constructor(config) {
    super(config);
    const emulator = this.webServer;
    const front = express();
    front.all('/bot:token/getMe', (_req, res) => {
      res.json({ ok: true, result: { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' } });
    });
    // sendPhoto (#sendphoto) is not in the emulator: a photo uploaded as multipart/form-data is
    // stored as a bot message whose text is "[photo N bytes] <caption>", so tests can read it.
    front.post('/bot:token/sendPhoto', express.raw({ type: () => true, limit: '20mb' }), (req, res) => {
      const fields = parseMultipart(req.headers['content-type'] || '', req.body || Buffer.alloc(0));
      const photo = fields.photo;
      if (!fields.chat_id || !photo || photo.length < 8 || photo.subarray(1, 4).toString() !== 'PNG') {
        res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: chat_id and a PNG photo are required' });
        return;
      }
      const caption = fields.caption ? fields.caption.toString('utf8') : '';
      const msg = this.addBotMessage({ chat_id: fields.chat_id.toString(), text: `[photo ${photo.length} bytes] ${caption}` },
        req.params.token);
      const sizes = [{ file_id: `p${msg.message_id}`, file_unique_id: `p${msg.message_id}`, width: 1080, height: 1920 }];
      res.json({ ok: true, result: { ...msg, text: undefined, caption, photo: sizes } });
    });
    front.use(emulator);
    this.webServer = front;
  }

  static formatUpdate(update) {
    const formatted = TelegramServer.formatUpdate(update);
    if (formatted.callback_query && !formatted.callback_query.chat_instance) {
      const chat = (update.callbackQuery.message || {}).chat || {};
      formatted.callback_query.chat_instance = String(chat.id || update.callbackQuery.from.id);
    }
    return formatted;
  }

  getUpdates(token) {
    const messages = this.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
    return messages.map((u) => {
      u.isRead = true;
      return AlignedTelegramServer.formatUpdate(u);
    });
  }

  addBotMessage(rawMessage, botToken) {
    const msg = super.addBotMessage(rawMessage, botToken);
    const result = { ...msg, date: Math.floor(msg.date / 1000) };
    for (const [key, value] of Object.entries(result)) {
      if (key !== 'text' && key !== 'caption' && typeof value === 'string' && value.startsWith('{')) {
        try {
          result[key] = JSON.parse(value);
        } catch (_err) {
          // not JSON: leave it
        }
      }
    }
    return result;
  }

  async addUserUpdate(update) {
    const webhook = this.webhooks[update.botToken];
    if (!webhook) {
      this.storage.userMessages.push(update);
      this.updateId++;
      return;
    }
    const headers = { 'Content-Type': 'application/json' };
    if (webhook.secret_token) {
      headers['X-Telegram-Bot-Api-Secret-Token'] = webhook.secret_token;
    }
    this.updateId++;
    try {
      const resp = await fetch(webhook.url, {
        method: 'POST', headers, body: JSON.stringify(AlignedTelegramServer.formatUpdate(update)),
      });
      this.webhookCalls = (this.webhookCalls || 0) + 1;
      if (resp.status !== 200) {
        console.error(`webhook answered HTTP ${resp.status}`);
      }
    } catch (err) {
      console.error(`webhook call failed: ${err.message}`);
    }
  }
}

async function main() {
  const port = Number(process.argv[2] || 9000);
  const server = new AlignedTelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
  await server.start();
  process.stdout.write(`READY ${port}\n`);
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
