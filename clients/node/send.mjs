// Sends a customer's story to cxloop with @segment/analytics-node, pointed at
// cxloop's URL: CXLOOP_URL and CXLOOP_WRITE_KEY come from the environment.
import { Analytics } from '@segment/analytics-node'

const analytics = new Analytics({
  writeKey: process.env.CXLOOP_WRITE_KEY,
  host: process.env.CXLOOP_URL,
  path: '/v1/batch',
  flushAt: 3,
  flushInterval: 100,
})

const failures = []
analytics.on('error', (err) => failures.push(err))

analytics.page({ anonymousId: 'node-anon', name: 'Pricing', properties: { path: '/pricing' } })
analytics.identify({ anonymousId: 'node-anon', userId: 'node-user', traits: { email: 'Node.User@Example.com', name: 'Node User', role: 'decision_maker' } })
analytics.track({ userId: 'node-user', event: 'Order Completed', properties: { order_id: 'n-1', total: 19.9, currency: 'EUR' } })
analytics.group({ userId: 'node-user', groupId: 'node-co', traits: { name: 'Node Co', industry: 'Tourism' } })
analytics.identify({ userId: 'node-legacy', traits: { legacy: true } })
analytics.alias({ previousId: 'node-legacy', userId: 'node-user' })

await analytics.closeAndFlush({ timeout: 20000 })
if (failures.length > 0) {
  console.error('delivery failed:', failures.map(String).join('; '))
  process.exit(1)
}
console.log('sent 6 messages')
