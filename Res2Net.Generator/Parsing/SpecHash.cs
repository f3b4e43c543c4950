using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace Res2Net.Generator.Parsing
{
    /// <summary>
    /// The SHA-256 of a spec's text, which every file generated from it states in its header: it tells which version of
    /// a spec a class was compiled from. It is taken over the text the compiler read, encoded as UTF-8 without a
    /// byte-order mark, so for a spec saved that way (the usual case) it is what <c>sha256sum</c> prints for the file.
    /// </summary>
    /// <remarks>
    /// Every byte counts, whitespace included: a reformatted spec gets a new hash, and so a new header. The plan is
    /// then made again for it alone (the spec carries the hash), which costs milliseconds; other specs are untouched.
    /// </remarks>
    internal static class SpecHash
    {
        private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        /// <summary>64 lowercase hex digits.</summary>
        public static string Of(SourceText text) => Of(text.ToString());

        /// <inheritdoc cref="Of(SourceText)"/>
        public static string Of(string text)
        {
            byte[] digest;
            using (var sha = SHA256.Create())
            {
                digest = sha.ComputeHash(Utf8NoBom.GetBytes(text));
            }
            var hex = new StringBuilder(digest.Length * 2);
            foreach (byte b in digest) hex.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return hex.ToString();
        }
    }
}
