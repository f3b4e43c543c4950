using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Download;

/// <summary>
/// Fetches one file over HTTP(S) the way torch.hub's <c>download_url_to_file</c> does, plus resumption and bounds: the
/// bytes go to a temporary file beside the target (<see cref="AtomicFileWriter"/>), a dropped connection is resumed
/// with an HTTP Range request (restarting cleanly if the server ignores it), and only when the whole file is there and
/// its sha256 starts with the expected prefix is it renamed to the target. Only absolute http(s) URLs and redirects are
/// followed (at most <see cref="MaxRedirects"/>); a download that goes <see cref="PretrainedOptions.StallTimeout"/>
/// without a byte, brings more than <see cref="PretrainedOptions.MaxDownloadBytes"/>, or cannot write its file (a full
/// disk) fails at once, without retrying. Any failure or cancellation deletes the temporary file, so the target name
/// only ever holds a complete, verified file.
/// </summary>
public static class CheckpointDownloader
{
    /// <summary>Redirects followed per request: urllib's limit, which torch.hub downloads have.</summary>
    public const int MaxRedirects = 10;

    private static readonly Lazy<HttpClient> Shared = new(() => new HttpClient(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // Redirects are followed one by one below, so that only http(s) targets are taken and each is named in errors.
        AllowAutoRedirect = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    });

    /// <summary>Downloads <paramref name="url"/> to <paramref name="destination"/>; see the class summary.</summary>
    /// <param name="url">What to fetch: an absolute http(s) URL.</param>
    /// <param name="destination">The final path; its folder is created if needed. An existing file there is replaced.</param>
    /// <param name="sha256Prefix">Hex prefix the file's sha256 must start with (from the file name, as torch.hub checks); null to skip.</param>
    /// <param name="options">Progress, retries, limits, client; default <see cref="PretrainedOptions"/>.</param>
    /// <param name="cancellationToken">Stops the download (the temporary file is deleted).</param>
    /// <exception cref="CheckpointDownloadException">Everything but cancellation; the message names the URL and <paramref name="destination"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; nothing is left behind.</exception>
    public static async Task DownloadAsync(string url, string destination, string? sha256Prefix, PretrainedOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= new PretrainedOptions();
        destination = Path.GetFullPath(destination);
        if (!CheckpointCache.TryHttpUri(url, out var start))
            throw new CheckpointDownloadException(url, destination, "expected an absolute http:// or https:// URL");
        Limits limits;
        try
        {
            limits = new Limits(options.ResolvedStallTimeout, options.ResolvedMaxDownloadBytes);
        }
        catch (FormatException e)
        {
            throw new CheckpointDownloadException(url, destination, e.Message);
        }

        Failure fail = (cause, inner) => new CheckpointDownloadException(url, destination, cause, inner);
        string folder = Path.GetDirectoryName(destination)!;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw fail($"cannot create the folder {folder}: {e.Message}", e);
        }
        try
        {
            using var partial = AtomicFileWriter.Create(destination);
            string digest = await FetchAsync(start, partial.Stream, options, limits, fail, cancellationToken).ConfigureAwait(false);
            if (sha256Prefix != null && !digest.StartsWith(sha256Prefix, StringComparison.OrdinalIgnoreCase))
                throw fail($"invalid hash value (expected \"{sha256Prefix}\", got \"{digest}\"); the download was discarded");
            partial.Commit();
        }
        catch (OutputFileException e)
        {
            throw fail($"{e.FilePath}: {e.Cause}", e); // names the target; a full disk in plain words
        }
    }

    /// <summary>Synchronous <see cref="DownloadAsync"/>.</summary>
    public static void Download(string url, string destination, string? sha256Prefix, PretrainedOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => DownloadAsync(url, destination, sha256Prefix, options, cancellationToken), cancellationToken).GetAwaiter().GetResult();

    /// <summary>Makes the exception for a failure of this download (its URL and target are known to the delegate).</summary>
    private delegate CheckpointDownloadException Failure(string cause, Exception? inner = null);

    /// <summary>The resolved bounds of one download.</summary>
    private readonly record struct Limits(TimeSpan StallTimeout, long MaxBytes)
    {
        /// <summary>The stall timeout as messages say it, e.g. <c>30 s</c>.</summary>
        public string Stall => $"{StallTimeout.TotalSeconds:0.###} s";
    }

    private const string StallHint = $"{CheckpointCache.StallTimeoutVariable} sets how long to wait";

    /// <summary>Fills the partial file with the whole file, resuming as needed; returns its sha256 in lowercase hex.</summary>
    private static async Task<string> FetchAsync(Uri start, Stream file, PretrainedOptions options, Limits limits,
        Failure fail, CancellationToken cancellationToken)
    {
        var client = options.HttpClient ?? Shared.Value;
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        string url = start.OriginalString;
        try
        {
            long have = 0;
            long? total = null;
            var buffer = new byte[1 << 16];
            for (int attempt = 1; ; attempt++)
            {
                string? transient;
                try
                {
                    transient = await AttemptAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (IsTransient(e, cancellationToken))
                {
                    transient = Describe(e);
                }
                if (transient == null) return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
                if (attempt >= options.MaxAttempts)
                    throw fail($"{transient} (gave up after {attempt} attempts)");
                var delay = options.RetryDelay * Math.Pow(2, attempt - 1);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);

                // One request: null when the file is complete, else why it should be retried.
                async Task<string?> AttemptAsync()
                {
                    using var response = await SendAsync(client, start, have, limits, fail, cancellationToken).ConfigureAwait(false);
                    var status = response.StatusCode;
                    if (status == HttpStatusCode.PartialContent && have > 0 && response.Content.Headers.ContentRange is { From: { } from } range && from == have)
                    {
                        total = range.Length ?? (response.Content.Headers.ContentLength is { } rest ? have + rest : null);
                    }
                    else if (status == HttpStatusCode.OK || status == HttpStatusCode.PartialContent)
                    {
                        // First request, or a server that ignored (or misanswered) the Range: start over.
                        if (status == HttpStatusCode.PartialContent)
                            return "the server answered the resume request with a different range";
                        Restart();
                        total = response.Content.Headers.ContentLength;
                    }
                    else if (status == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0 && have == total)
                    {
                        return null;
                    }
                    else if ((int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
                    {
                        return $"the server answered {(int)status} {response.ReasonPhrase}";
                    }
                    else
                    {
                        throw fail($"the server answered {(int)status} {response.ReasonPhrase}");
                    }
                    if (total > limits.MaxBytes)
                        throw fail($"the server announced {total:N0} bytes, more than the limit of {limits.MaxBytes:N0} for one checkpoint ({CheckpointCache.MaxBytesVariable})");

                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    while (true)
                    {
                        stall.CancelAfter(limits.StallTimeout);
                        int read;
                        try
                        {
                            read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            // A stalled server rarely recovers within seconds: say so now rather than retry in silence.
                            string of = total is { } t ? $" of {t:N0}" : "";
                            throw fail($"no data arrived for {limits.Stall} after {have:N0}{of} bytes ({StallHint})");
                        }
                        if (read == 0) break;
                        if (total is { } announced && have + read > announced)
                            throw fail($"the server sent more than the {announced:N0} bytes it announced");
                        if (have + read > limits.MaxBytes)
                            throw fail($"more than {limits.MaxBytes:N0} bytes arrived, the limit for one checkpoint ({CheckpointCache.MaxBytesVariable}); the download was stopped");
                        await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        hash.AppendData(buffer, 0, read);
                        have += read;
                        options.Progress?.Report(new DownloadProgress(url, have, total, attempt));
                    }
                    await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (total is { } expected && have < expected)
                        return $"the connection closed after {have} of {expected} bytes";
                    return null;
                }
            }

            void Restart()
            {
                if (have == 0) return;
                file.SetLength(0);
                file.Position = 0;
                hash.Dispose();
                hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                have = 0;
            }
        }
        catch (HttpRequestException e)
        {
            throw fail(Describe(e), e);
        }
        finally
        {
            hash.Dispose();
        }
    }

    /// <summary>
    /// Sends one GET (with a Range from <paramref name="have"/>), following redirects to absolute http(s) URLs only, never
    /// from https to plain http, at most <see cref="MaxRedirects"/> of them; waits at most the stall timeout for each answer.
    /// </summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Uri start, long have, Limits limits,
        Failure fail, CancellationToken cancellationToken)
    {
        var current = start;
        for (int redirects = 0; ; redirects++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
            HttpResponseMessage response;
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                waiting.CancelAfter(limits.StallTimeout);
                try
                {
                    response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, waiting.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw fail($"no answer from {current.OriginalString} for {limits.Stall} ({StallHint})");
                }
            }
            if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
                    or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect) || response.Headers.Location is not { } location)
                return response;
            response.Dispose();

            var next = location.IsAbsoluteUri ? location : new Uri(current, location);
            if (!CheckpointCache.IsHttp(next))
                throw fail($"{current.OriginalString} redirects to {location.OriginalString}; only http:// and https:// redirects are followed");
            if (current.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
                throw fail($"{current.OriginalString} redirects to {next.OriginalString}; a redirect from https to plain http is not followed");
            if (redirects == MaxRedirects)
                throw fail($"more than {MaxRedirects} redirects (the last from {current.OriginalString} to {next.OriginalString})");
            current = next;
        }
    }

    /// <summary>
    /// Dropped or reset connections and timeouts are retried; no route, no name and refused connections are not (offline),
    /// nor local write errors (a full disk, a read-only folder: the machine's trouble, not the network's).
    /// </summary>
    private static bool IsTransient(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        if (e is CheckpointDownloadException or OutputFileException) return false;
        for (var inner = e; inner != null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
                return socket.SocketErrorCode is not (SocketError.HostNotFound or SocketError.NoData or SocketError.NetworkUnreachable
                    or SocketError.HostUnreachable or SocketError.ConnectionRefused or SocketError.AccessDenied);
        }
        return e is IOException or HttpRequestException or TaskCanceledException or TimeoutException;
    }

    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (var inner = e; inner != null; inner = inner.InnerException)
        {
            string message = inner.Message.TrimEnd('.');
            if (!messages.Any(m => m.Contains(message, StringComparison.Ordinal))) messages.Add(message);
        }
        return string.Join(": ", messages);
    }
}
