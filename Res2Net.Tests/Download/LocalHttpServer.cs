using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Res2Net.Tests.Download;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 for download tests, written on a raw socket so a test can cut a
/// connection in the middle of a body. One request per connection (<c>Connection: close</c>); it serves at most
/// <c>maxRequests</c> requests and stops by itself after <c>lifetime</c>, so a broken test cannot leave it running;
/// one connection is held at most <c>connectionTimeout</c>, however it stalls.
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    /// <summary>What the client asked for.</summary>
    public sealed record Request(string Method, string Path, string? Range);

    /// <summary>
    /// What to answer. A 200 reply honours <c>Range: bytes=N-</c> with 206 unless <see cref="IgnoreRange"/>;
    /// <see cref="CutAfter"/> sends only that many body bytes, then closes the connection.
    /// </summary>
    public sealed record Reply(int Status, byte[] Body)
    {
        public int? CutAfter { get; init; }

        public bool IgnoreRange { get; init; }

        /// <summary>Sends this many body bytes, then nothing more while holding the connection open (a stalled server).</summary>
        public int? StallAfter { get; init; }

        /// <summary>Accepts the request and never answers it, not even with a status line.</summary>
        public bool StallBeforeHeaders { get; init; }

        /// <summary>Sends the body again and again with no Content-Length, until the client hangs up (an endless response).</summary>
        public bool Endless { get; init; }

        /// <summary>A <c>Location</c> header, for redirects.</summary>
        public string? Location { get; init; }

        /// <summary>A 3xx reply to <paramref name="location"/>.</summary>
        public static Reply Redirect(string location, int status = 302) => new(status, []) { Location = location };
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop;
    private readonly Func<Request, int, Reply> _handler;
    private readonly int _maxRequests;
    private readonly TimeSpan _connectionTimeout;
    private readonly ConcurrentQueue<Request> _requests = new();
    private readonly Task _loop;

    public LocalHttpServer(Func<Request, int, Reply> handler, int maxRequests = 20, TimeSpan? lifetime = null, TimeSpan? connectionTimeout = null)
    {
        _handler = handler;
        _maxRequests = maxRequests;
        _connectionTimeout = connectionTimeout ?? TimeSpan.FromSeconds(10);
        _stop = new CancellationTokenSource(lifetime ?? TimeSpan.FromSeconds(60));
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Serves <paramref name="files"/> by path (e.g. <c>/ckpt/a.pth</c>); anything else is 404.</summary>
    public static LocalHttpServer Serving(IReadOnlyDictionary<string, byte[]> files) =>
        new((request, _) => files.TryGetValue(request.Path, out var body) ? new Reply(200, body) : new Reply(404, "not found"u8.ToArray()));

    public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public IReadOnlyList<Request> Requests => _requests.ToArray();

    private async Task LoopAsync()
    {
        try
        {
            for (int n = 0; n < _maxRequests; n++)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                try
                {
                    await HandleAsync(client, n);
                }
                catch (Exception e) when (e is IOException || (e is OperationCanceledException && !_stop.IsCancellationRequested))
                {
                    // The client went away, or this connection's time was up; the next connection is served as usual.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            _listener.Stop();
        }
    }

    private async Task HandleAsync(TcpClient client, int index)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_connectionTimeout);
        var stream = client.GetStream();
        string head = await ReadHeadAsync(stream, timeout.Token);
        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        string? range = lines.Skip(1).Where(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["Range:".Length..].Trim()).FirstOrDefault();
        var request = new Request(requestLine[0], requestLine.Length > 1 ? requestLine[1] : "/", range);
        _requests.Enqueue(request);

        var reply = _handler(request, index);
        int status = reply.Status;
        byte[] body = reply.Body;
        string extra = "";
        if (status == 200 && range != null && !reply.IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            int from = int.Parse(range["bytes=".Length..^1]);
            extra = $"Content-Range: bytes {from}-{body.Length - 1}/{body.Length}\r\n";
            body = body[from..];
            status = 206;
        }
        if (reply.StallBeforeHeaders)
        {
            await StallAsync(timeout.Token);
            return;
        }
        string reason = status switch
        {
            200 => "OK", 206 => "Partial Content", 301 => "Moved Permanently", 302 => "Found", 307 => "Temporary Redirect",
            404 => "Not Found", 500 => "Internal Server Error", _ => "Status",
        };
        string length = reply.Endless ? "" : $"Content-Length: {body.Length}\r\n";
        string location = reply.Location == null ? "" : $"Location: {reply.Location}\r\n";
        byte[] header = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/octet-stream\r\n{length}{location}{extra}Connection: close\r\n\r\n");
        await stream.WriteAsync(header, timeout.Token);
        if (reply.Endless)
        {
            // Ends when the client hangs up (IOException) or the connection's time is up.
            while (true) await stream.WriteAsync(body, timeout.Token);
        }
        int send = Math.Min(reply.CutAfter ?? reply.StallAfter ?? body.Length, body.Length);
        await stream.WriteAsync(body.AsMemory(0, send), timeout.Token);
        await stream.FlushAsync(timeout.Token);
        if (reply.StallAfter != null) await StallAsync(timeout.Token);
        client.Client.Shutdown(SocketShutdown.Both);
    }

    /// <summary>Holds the connection open, sending nothing, until the connection's time is up or the server stops.</summary>
    private static async Task StallAsync(CancellationToken token)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken token)
    {
        var buffer = new byte[16384];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), token);
            if (read == 0) break;
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0) break;
        }
        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
