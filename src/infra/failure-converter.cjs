// The failure converter of every banjian worker, client and workflow bundle: a failure's message
// and stack trace travel as an encoded payload, which the payload codec encrypts, so that a
// refusal's text or an activity's error (which may quote a case) is never in a history in clear.
// CommonJS, because the SDK loads it by path with require() (the worker, the client) as well as
// bundling it into the workflow sandbox, on every supported Node.
const { DefaultFailureConverter } = require('@temporalio/common')

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true })
