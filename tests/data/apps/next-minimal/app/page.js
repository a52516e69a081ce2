export const dynamic = "force-dynamic";

export default function Home() {
  return <main>Hello from Next.js standalone, rendered at request time</main>;
}
