using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Res2Net.Runtime.Download;

/// <summary>
/// Fetches one file over HTTP(S) the way torch.hub's <c>download_url_to_file</c> does, plus resumption: the bytes go
/// to a temporary file beside the target, a dropped or stalled connection is resumed with an HTTP Range request
/// (restarting cleanly if the server ignores it), and only when the whole file is there and its sha256 starts with
/// the expected prefix is it renamed to the target. Any failure deletes the temporary file, so the target name only
/// ever holds a complete, verified file.
/// </summary>
public static class CheckpointDownloader
{
    private static readonly Lazy<HttpClient> Shared = new(() => new HttpClient(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    });

    /// <summary>Downloads <paramref name="url"/> to <paramref name="destination"/>; see the class summary.</summary>
    /// <param name="url">What to fetch.</param>
    /// <param name="destination">The final path; its folder is created if needed. An existing file there is replaced.</param>
    /// <param name="sha256Prefix">Hex prefix the file's sha256 must start with (from the file name, as torch.hub checks); null to skip.</param>
    /// <param name="options">Progress, retries, client; default <see cref="PretrainedOptions"/>.</param>
    /// <param name="cancellationToken">Stops the download (the temporary file is deleted).</param>
    /// <exception cref="CheckpointDownloadException">Everything but cancellation; the message names the URL and <paramref name="destination"/>.</exception>
    public static async Task DownloadAsync(string url, string destination, string? sha256Prefix, PretrainedOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(destination);
        options ??= new PretrainedOptions();
        destination = Path.GetFullPath(destination);
        string directory = Path.GetDirectoryName(destination)!;
        string temp = $"{destination}.{Guid.NewGuid().ToString("N")[..8]}.partial";
        try
        {
            Directory.CreateDirectory(directory);
            string digest = await FetchAsync(url, temp, destination, options, cancellationToken).ConfigureAwait(false);
            if (sha256Prefix != null && !digest.StartsWith(sha256Prefix, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointDownloadException(url, destination,
                    $"invalid hash value (expected \"{sha256Prefix}\", got \"{digest}\"); the download was discarded");
            File.Move(temp, destination, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointDownloadException(url, destination, $"cannot write the file: {e.Message}", e);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>Synchronous <see cref="DownloadAsync"/>.</summary>
    public static void Download(string url, string destination, string? sha256Prefix, PretrainedOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => DownloadAsync(url, destination, sha256Prefix, options, cancellationToken), cancellationToken).GetAwaiter().GetResult();

    /// <summary>Fills <paramref name="temp"/> with the whole file, resuming as needed; returns its sha256 in lowercase hex.</summary>
    private static async Task<string> FetchAsync(string url, string temp, string destination, PretrainedOptions options, CancellationToken cancellationToken)
    {
        var client = options.HttpClient ?? Shared.Value;
        using var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
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
                    throw new CheckpointDownloadException(url, destination, $"{transient} (gave up after {attempt} attempts)");
                var delay = options.RetryDelay * Math.Pow(2, attempt - 1);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);

                // One request: null when the file is complete, else why it should be retried.
                async Task<string?> AttemptAsync()
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, url);
                    if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
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
                        throw new CheckpointDownloadException(url, destination, $"the server answered {(int)status} {response.ReasonPhrase}");
                    }

                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    while (true)
                    {
                        stall.CancelAfter(options.StallTimeout);
                        int read;
                        try
                        {
                            read = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            return $"no data arrived for {options.StallTimeout.TotalSeconds:0} s after {have} bytes";
                        }
                        if (read == 0) break;
                        if (total is { } t && have + read > t)
                            return $"the server sent more than the {t} bytes it announced";
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
            throw new CheckpointDownloadException(url, destination, Describe(e), e);
        }
        finally
        {
            hash.Dispose();
        }
    }

    /// <summary>Dropped or reset connections and timeouts are retried; no route, no name and refused connections are not (offline).</summary>
    private static bool IsTransient(Exception e, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        if (e is CheckpointDownloadException) return false;
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

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
