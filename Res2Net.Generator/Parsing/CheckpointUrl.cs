using System;

namespace Res2Net.Generator.Parsing
{
    /// <summary>
    /// What a spec's <c>checkpoint.url</c> must be: where the runtime downloads the weights from, and whose last
    /// path segment becomes the cached file's name (<c>CheckpointCache.FileName</c>, which accepts every URL this
    /// accepts; a test checks it).
    /// </summary>
    internal static class CheckpointUrl
    {
        /// <summary>Longer than any real download URL; keeps messages and generated code readable.</summary>
        public const int MaxLength = 2048;

        /// <summary>Why <paramref name="url"/> cannot be a checkpoint URL, as the diagnostic's "expected …"; null if it can.</summary>
        public static string? Problem(string url)
        {
            const string Expected = "an absolute http:// or https:// URL";
            if (url.Length > MaxLength) return $"{Expected} of at most {MaxLength} characters";
            foreach (char c in url)
            {
                // RFC 3986 allows only printable ASCII; anything else (spaces, controls, non-ASCII) must be %-encoded.
                if (c <= ' ' || c >= '\u007f') return $"{Expected} of printable ASCII, with spaces and other characters %-encoded";
            }
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")
                || uri.Host.Length == 0 || !url.StartsWith(uri.Scheme + "://", StringComparison.OrdinalIgnoreCase))
            {
                return Expected;
            }
            if (uri.UserInfo.Length > 0) return $"{Expected} without a user name or password (they would be compiled into the assembly)";

            string path = uri.AbsolutePath;
            string name = Uri.UnescapeDataString(path.Substring(path.LastIndexOf('/') + 1));
            if (name.Length == 0 || name == "." || name == ".." || name.IndexOfAny(new[] { '/', '\\' }) >= 0 || HasControl(name))
            {
                return $"{Expected} whose path ends in a file name (the checkpoint is cached under it), e.g. https://host/path/model_20210927-bc967bf1.pth";
            }
            return null;
        }

        private static bool HasControl(string s)
        {
            foreach (char c in s)
            {
                if (char.IsControl(c)) return true;
            }
            return false;
        }
    }
}
