/** The fake TGI as its own process (fault tests restart it): PORT, and FAKE_TGI_LOG for a JSON line per call. */
import { FakeTgi } from "./fakeTgi";

const port = Number(process.env.PORT ?? "0");
void new FakeTgi({ port, log: process.env.FAKE_TGI_LOG }).start().then((m) => console.log(`fake TGI listening on ${m.url}`));
process.once("SIGTERM", () => process.exit(0));
