import Mustache

/// The console's pages as Mustache templates (compiled into the binary, so an installed `bluetrace` needs no files
/// beside it): a shared header and footer and one template per page. Values are escaped by Mustache (`{{…}}`); only
/// the contact graph, built with every label escaped, is inserted raw (`{{{graph}}}`).
struct ConsolePages: Sendable {
    private let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for (name, text) in Self.templates {
            // The templates are constants of this file; a mistake in one is a programming error found by any test.
            do { try library.register(text, named: name) } catch { fatalError("console template \(name): \(error)") }
        }
        self.library = library
    }

    /// The page `name` rendered with `values`.
    func render(_ name: String, _ values: [String: Any]) -> String {
        library.render(values, withTemplate: name) ?? "template \(name) is missing"
    }

    static let templates: [String: String] = [
        "header": #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · BlueTrace console</title>
        <style>
        :root { --ink: #1d2733; --muted: #5d6b7a; --line: #d9e0e8; --accent: #1f5fa8; --bg: #f5f7fa; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        header { background: #12355b; color: #fff; padding: .6rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1rem; }
        header .brand { font-weight: 700; margin-right: auto; }
        header nav { display: flex; gap: .8rem; flex-wrap: wrap; }
        header a { color: #fff; text-decoration: none; padding: .2rem .1rem; border-bottom: 2px solid transparent; }
        header a.current { border-bottom-color: #f2a541; }
        header form { margin: 0; }
        header button { background: transparent; color: #fff; border: 1px solid #8fb0d6; border-radius: 4px; padding: .2rem .6rem; font: inherit; cursor: pointer; }
        main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: .95rem; }
        th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { color: var(--muted); font-weight: 600; }
        td.num, th.num { text-align: right; }
        a { color: var(--accent); }
        label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
        input[type=text], input[type=password], input[type=tel] { width: 100%; max-width: 22rem; padding: .55rem; font: inherit; border: 1px solid #aab6c3; border-radius: 6px; }
        button.primary { margin-top: .9rem; background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .6rem 1.2rem; font: inherit; cursor: pointer; }
        .message { background: #fdecea; border: 1px solid #f5c2bd; color: #8a1c12; padding: .6rem .8rem; border-radius: 6px; margin-bottom: 1rem; }
        .code { font: 700 2rem/1.2 ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .15em; background: #eef5ff; border: 1px dashed var(--accent); padding: .6rem 1rem; display: inline-block; border-radius: 6px; }
        .muted { color: var(--muted); }
        .pager { display: flex; gap: 1rem; align-items: center; margin-top: .8rem; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
        .facts dt { color: var(--muted); }
        .facts dd { margin: 0; }
        svg.graph { width: 100%; max-width: 320px; height: auto; display: block; margin: 0 auto; }
        @media (max-width: 30rem) {
          body { font-size: 15px; } main { padding: .6rem; }
          table.stack thead { display: none; }
          table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: .35rem 0; }
          table.stack td { display: flex; justify-content: space-between; gap: 1rem; border: 0; padding: .12rem .2rem; white-space: normal; text-align: right; }
          table.stack td::before { content: attr(data-label); color: var(--muted); text-align: left; white-space: nowrap; }
        }
        </style>
        </head>
        <body>
        <header>
        <span class="brand">BlueTrace console</span>
        {{#loggedIn}}
        <nav>
        <a href="/console/cases"{{#inCases}} class="current"{{/inCases}}>Cases</a>
        <a href="/console/codes"{{#inCodes}} class="current"{{/inCodes}}>Upload code</a>
        <a href="/console/audit"{{#inAudit}} class="current"{{/inAudit}}>Audit trail</a>
        </nav>
        <form method="post" action="/console/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" title="Log out {{official}}">Log out {{official}}</button></form>
        {{/loggedIn}}
        </header>
        <main>
        """#,
        "pager": #"""
        <div class="pager">
        {{#previous}}<a href="{{previous}}" rel="prev">← Newer</a>{{/previous}}
        <span class="muted">Page {{page}} of {{pages}}</span>
        {{#next}}<a href="{{next}}" rel="next">Older →</a>{{/next}}
        </div>
        """#,
        "footer": #"""
        </main>
        </body>
        </html>
        """#,
        "login": #"""
        {{> header}}
        <h1>Log in</h1>
        {{#message}}<p class="message" role="alert">{{message}}</p>{{/message}}
        <form class="card" method="post" action="/console/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="name">Name</label>
        <input type="text" id="name" name="name" autocomplete="username" autocapitalize="none" required value="{{name}}">
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required>
        <button class="primary" type="submit" id="login">Log in</button>
        </form>
        <p class="muted">Health officials only. Accounts are made on the server with <code>bluetrace officials add NAME</code>.</p>
        {{> footer}}
        """#,
        "error": #"""
        {{> header}}
        <h1>{{title}}</h1>
        <p class="message" role="alert">{{message}}</p>
        <p><a href="/console/cases">Back to the cases</a></p>
        {{> footer}}
        """#,
        "cases": #"""
        {{> header}}
        <h1>Cases <span class="muted">({{total}})</span></h1>
        <div class="card scroll">
        {{#empty}}<p class="muted">No contact logs have been uploaded yet.</p>{{/empty}}
        {{^empty}}
        <table id="cases" class="stack">
        <thead><tr><th>Case</th><th>Uploaded by</th><th>Received</th><th class="num">Entries</th><th class="num">Traced</th></tr></thead>
        <tbody>
        {{#cases}}
        <tr><td data-label="Case"><a href="/console/cases/{{id}}">#{{id}}</a></td><td data-label="Uploaded by">{{uploader}}</td><td data-label="Received">{{received}}</td><td class="num" data-label="Entries">{{entries}}</td><td class="num" data-label="Traced">{{traced}}</td></tr>
        {{/cases}}
        </tbody>
        </table>
        {{/empty}}
        {{> pager}}
        </div>
        {{> footer}}
        """#,
        "case": #"""
        {{> header}}
        <h1>Case #{{id}}</h1>
        <div class="card">
        <dl class="facts">
        <dt>Uploaded by</dt><dd>{{uploader}}</dd>
        <dt>Received</dt><dd>{{received}}</dd>
        <dt>Entries</dt><dd>{{entries}}</dd>
        <dt>Traced contacts</dt><dd id="contact-count">{{contactCount}}</dd>
        </dl>
        </div>
        <div class="card">
        {{{graph}}}
        </div>
        <div class="card scroll">
        {{#noContacts}}<p class="muted">No entry of this upload traced to a person.</p>{{/noContacts}}
        {{^noContacts}}
        <table id="contacts" class="stack">
        <thead><tr><th>Contact</th><th>First encounter</th><th>Last encounter</th><th class="num">Encounters</th><th>Exposure notice</th></tr></thead>
        <tbody>
        {{#contacts}}
        <tr><td data-label="Contact">{{phone}}</td><td data-label="First encounter">{{first}}</td><td data-label="Last encounter">{{last}}</td><td class="num" data-label="Encounters">{{count}}</td><td data-label="Exposure notice">{{notice}}</td></tr>
        {{/contacts}}
        </tbody>
        </table>
        {{/noContacts}}
        </div>
        <p><a href="/console/cases">← All cases</a></p>
        {{> footer}}
        """#,
        "codes": #"""
        {{> header}}
        <h1>Issue a one-time upload code</h1>
        {{#message}}<p class="message" role="alert">{{message}}</p>{{/message}}
        <form class="card" method="post" action="/console/codes">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="phone">Phone number of the person who tested positive</label>
        <input type="tel" id="phone" name="phone" required placeholder="+61410000000" value="{{phone}}">
        <button class="primary" type="submit" id="issue">Issue code</button>
        </form>
        <p class="muted">The code is shown once. Tell it to the person; their phone asks for it when they upload. It is valid once, for a limited time, and recorded in the audit trail under your name.</p>
        {{> footer}}
        """#,
        "code": #"""
        {{> header}}
        <h1>Upload code for {{phone}}</h1>
        <div class="card">
        <p><span class="code" id="code">{{code}}</span></p>
        <p>Valid once, until <strong>{{expires}}</strong>. Tell it to the person now: it is not shown again.</p>
        </div>
        <p><a href="/console/codes">Issue another code</a></p>
        {{> footer}}
        """#,
        "audit": #"""
        {{> header}}
        <h1>Audit trail <span class="muted">({{total}}, newest first)</span></h1>
        <div class="card scroll">
        <table id="audit" class="stack">
        <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Subject</th><th>Detail</th></tr></thead>
        <tbody>
        {{#entries}}
        <tr><td data-label="Time">{{at}}</td><td data-label="Actor">{{actor}}</td><td data-label="Action">{{action}}</td><td data-label="Subject">{{subject}}</td><td data-label="Detail">{{detail}}</td></tr>
        {{/entries}}
        </tbody>
        </table>
        {{> pager}}
        </div>
        {{> footer}}
        """#,
    ]
}
