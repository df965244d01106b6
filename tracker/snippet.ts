/**
 * The async loader snippet: defines `window.waymark` as a queue right away, so pages can call
 * `waymark('newTracker', ...)` and `waymark('trackPageView')` before `sp.js` has loaded; `sp.js` then replays the
 * queue and replaces the function. Paste the output of `loaderSnippet(src)` into a `<script>` in the page head:
 *
 *   <script>
 *   (function(w,d,n,s,e){w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)};e=d.createElement('script');
 *   e.async=1;e.src=s;d.head.appendChild(e)})(window,document,'waymark','https://cdn.example.com/sp.js');
 *   waymark('newTracker', 'sp', 'https://c.example.com', { appId: 'site' });
 *   waymark('trackPageView');
 *   </script>
 */

/** The loader snippet (JavaScript source, no `<script>` tag) loading the tracker from `src`. */
export function loaderSnippet(src: string): string {
  return (
    "(function(w,d,n,s,e){w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)};e=d.createElement('script');" +
    'e.async=1;e.src=s;d.head.appendChild(e)})(window,document,"waymark",' +
    JSON.stringify(src) +
    ');'
  );
}
