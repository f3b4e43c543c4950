using System.Text.RegularExpressions;

namespace Res2Net.Runtime.Download;

/// <summary>
/// Where pretrained checkpoints are kept: <c>$RES2NET_HOME/checkpoints</c>, by default
/// <c>~/.cache/res2net/checkpoints</c>, each under the file name of its URL (as torch.hub keeps
/// <c>~/.cache/torch/hub/checkpoints</c>). A file placed there by hand is used as if it had been downloaded.
/// </summary>
public static partial class CheckpointCache
{
    /// <summary>Environment variable naming the cache's root folder.</summary>
    public const string HomeVariable = "RES2NET_HOME";

    /// <summary>
    /// Environment variable that replaces everything before the file name in the checkpoint URLs (a mirror, or a test
    /// server): <c>RES2NET_DOWNLOAD_BASE=http://mirror/res2net/</c> fetches <c>http://mirror/res2net/&lt;file&gt;</c>.
    /// </summary>
    public const string DownloadBaseVariable = "RES2NET_DOWNLOAD_BASE";

    /// <summary>Environment variable that, set to <c>1</c> or <c>true</c>, forbids downloads (only cached checkpoints are used).</summary>
    public const string OfflineVariable = "RES2NET_OFFLINE";

    /// <summary>
    /// Environment variable: seconds a download may go without receiving a byte (or an answer) before it fails; default
    /// 30. See <see cref="PretrainedOptions.StallTimeout"/>.
    /// </summary>
    public const string StallTimeoutVariable = "RES2NET_DOWNLOAD_TIMEOUT";

    /// <summary>
    /// Environment variable: the most bytes one checkpoint download may bring; default 4 GiB. See
    /// <see cref="PretrainedOptions.MaxDownloadBytes"/>.
    /// </summary>
    public const string MaxBytesVariable = "RES2NET_DOWNLOAD_MAX_BYTES";

    /// <summary>True when <c>RES2NET_OFFLINE</c> is <c>1</c> or <c>true</c>.</summary>
    public static bool OfflineByEnvironment =>
        Environment.GetEnvironmentVariable(OfflineVariable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>The cache root: <c>$RES2NET_HOME</c>, else <c>~/.cache/res2net</c>.</summary>
    public static string Home
    {
        get
        {
            string? home = Environment.GetEnvironmentVariable(HomeVariable);
            if (!string.IsNullOrEmpty(home)) return Path.GetFullPath(home);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "res2net");
        }
    }

    /// <summary>The folder checkpoints are downloaded into: <c>&lt;Home&gt;/checkpoints</c>.</summary>
    public static string CheckpointDirectory => Path.Combine(Home, "checkpoints");

    /// <summary>The file name a URL is cached under: its last path segment.</summary>
    /// <exception cref="ArgumentException">The URL is not absolute http(s) or names no file.</exception>
    public static string FileName(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!TryHttpUri(url, out var uri))
            throw new ArgumentException($"'{url}' is not an http(s) URL", nameof(url));
        string name = Uri.UnescapeDataString(uri.AbsolutePath.Split('/')[^1]);
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new ArgumentException($"URL '{url}' does not end in a file name", nameof(url));
        return name;
    }

    /// <summary>
    /// The sha256 prefix a file name carries, found as torch.hub finds it (<c>-([a-f0-9]*)\.</c>, first match):
    /// <c>..._20210927-bc967bf1.pth</c> gives <c>bc967bf1</c>. Null when the name carries none.
    /// </summary>
    public static string? HashPrefix(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var match = HashRegex().Match(fileName);
        return match.Success && match.Groups[1].Length > 0 ? match.Groups[1].Value : null;
    }

    /// <summary>
    /// The sha256 of the file at <paramref name="path"/>, in lowercase hex: what a file name's prefix is checked against,
    /// and how results record which weights produced them (two copies of one checkpoint at different paths agree).
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static string Sha256Hex(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>The URL to fetch: <paramref name="url"/>, or its file name under <paramref name="baseUrl"/> when one is given.</summary>
    public static string Resolve(string url, string? baseUrl)
    {
        if (string.IsNullOrEmpty(baseUrl)) return url;
        return baseUrl.TrimEnd('/') + "/" + Uri.EscapeDataString(FileName(url));
    }

    /// <summary>
    /// True when <paramref name="url"/> is an absolute http:// or https:// URL with a host: the only kind a download
    /// base, a checkpoint URL or a redirect may be (never file://, ftp:// or a relative path).
    /// </summary>
    public static bool TryHttpUri(string url, out Uri uri)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out uri!) && IsHttp(uri)) return true;
        uri = null!;
        return false;
    }

    /// <summary>True for an absolute http(s) URI with a host.</summary>
    internal static bool IsHttp(Uri uri) =>
        uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;

    [GeneratedRegex(@"-([a-f0-9]*)\.")]
    private static partial Regex HashRegex();
}
