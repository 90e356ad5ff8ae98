// Triggers a Jenkins job the way the StackOverflow answers show it: an
// HttpWebRequest POST to buildWithParameters with the Basic header added by
// hand (HttpWebRequest sends Credentials only after a 401 challenge, which
// Jenkins never sends), form content type, PreAuthenticate and Credentials.
//
// usage: Trigger.exe URL USER APITOKEN nobody|form [FORMBODY]
//   URL       .../job/NAME/buildWithParameters[?P=v&token=T]
//   nobody    POST with no body (Mono then sends neither Content-Length nor
//             Transfer-Encoding)
//   form      POST FORMBODY as the request body (Mono then sends
//             Expect: 100-continue)
// Prints "STATUS 201", "LOCATION <url>", then polls LOCATION/api/json until
// the queue item has an executable and prints "BUILD <url>".
using System;
using System.IO;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

class Trigger
{
    static string user, apiToken;

    static HttpWebRequest NewRequest(string url, string method)
    {
        var request = (HttpWebRequest) WebRequest.Create(url);
        request.Method = method;
        request.PreAuthenticate = true;
        request.Credentials = new NetworkCredential(user, apiToken);
        string auth = Convert.ToBase64String(Encoding.Default.GetBytes(user + ":" + apiToken));
        request.Headers["Authorization"] = "Basic " + auth;
        request.Timeout = 30000;
        return request;
    }

    static int Main(string[] args)
    {
        if (args.Length < 4) {
            Console.Error.WriteLine("usage: Trigger.exe URL USER APITOKEN nobody|form [FORMBODY]");
            return 2;
        }
        string url = args[0];
        user = args[1];
        apiToken = args[2];
        string variant = args[3];
        string form = args.Length > 4 ? args[4] : "";
        int pollSeconds = 60;
        string slow = Environment.GetEnvironmentVariable("STEWARD_SLOW");
        if (!string.IsNullOrEmpty(slow))
            pollSeconds *= int.Parse(slow);

        HttpWebRequest request = NewRequest(url, "POST");
        request.ContentType = "application/x-www-form-urlencoded";
        if (variant == "form") {
            byte[] data = Encoding.UTF8.GetBytes(form);
            request.ContentLength = data.Length;
            using (Stream stream = request.GetRequestStream())
                stream.Write(data, 0, data.Length);
        } else if (variant != "nobody") {
            Console.Error.WriteLine("unknown variant " + variant);
            return 2;
        }

        string location;
        try {
            using (var response = (HttpWebResponse) request.GetResponse()) {
                Console.WriteLine("STATUS " + (int) response.StatusCode);
                location = response.Headers["Location"];
                Console.WriteLine("LOCATION " + location);
            }
        } catch (WebException e) {
            var r = e.Response as HttpWebResponse;
            if (r == null) {
                Console.WriteLine("ERROR " + e.Status + " " + e.Message);
                return 1;
            }
            Console.WriteLine("STATUS " + (int) r.StatusCode);
            using (var reader = new StreamReader(r.GetResponseStream()))
                Console.WriteLine("BODY " + reader.ReadToEnd());
            return 1;
        }
        if (string.IsNullOrEmpty(location))
            return 1;

        // Poll the queue item until it has become a build.
        var executable = new Regex("\"executable\"\\s*:\\s*\\{[^}]*\"url\"\\s*:\\s*\"([^\"]+)\"");
        DateTime deadline = DateTime.Now.AddSeconds(pollSeconds);
        while (DateTime.Now < deadline) {
            HttpWebRequest poll = NewRequest(location.TrimEnd('/') + "/api/json", "GET");
            string json;
            using (var response = (HttpWebResponse) poll.GetResponse())
            using (var reader = new StreamReader(response.GetResponseStream()))
                json = reader.ReadToEnd();
            Match m = executable.Match(json);
            if (m.Success) {
                Console.WriteLine("BUILD " + m.Groups[1].Value);
                return 0;
            }
            if (Regex.IsMatch(json, "\"cancelled\"\\s*:\\s*true")) {
                Console.WriteLine("CANCELLED");
                return 1;
            }
            Thread.Sleep(100);
        }
        Console.WriteLine("TIMEOUT");
        return 1;
    }
}
